//! Integration tests: the real server on port 0 with a real SQLite file.

mod auth;
mod backups;
mod chat;
mod cli;
mod files;
mod frames_prop;
mod gdpr;
mod headers;
mod helpers;
mod imap;
mod inbound;
mod live;
mod mail_corpus;
mod malformed;
mod object_matrix;
mod object_policy;
mod retention;
mod route_matrix;
mod routing;
mod server;
mod socket_code;
mod tickets;
mod webhooks;
mod world;
mod ws;
