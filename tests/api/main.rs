//! Integration tests: the real server on port 0 with a real SQLite file.

mod audit;
mod auth;
mod chat;
mod cli;
mod files;
mod frames_prop;
mod headers;
mod helpers;
mod imap;
mod inbound;
mod live;
mod mail_corpus;
mod mail_out;
mod malformed;
mod object_matrix;
mod object_policy;
mod route_matrix;
mod routing;
mod server;
mod socket_code;
mod team;
mod tickets;
mod totp;
mod world;
mod ws;
