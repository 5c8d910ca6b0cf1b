//! Integration tests: the real server on port 0 with a real SQLite file.

mod auth;
mod backups;
mod chat;
mod cli;
mod frames_prop;
mod gdpr;
mod helpers;
mod malformed;
mod retention;
mod route_matrix;
mod server;
mod socket_code;
mod tickets;
mod webhooks;
mod ws;
