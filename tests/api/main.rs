//! Integration tests: the real server on port 0 with a real SQLite file.

mod auth;
mod chat;
mod cli;
mod frames_prop;
mod helpers;
mod mail_out;
mod malformed;
mod route_matrix;
mod server;
mod socket_code;
mod tickets;
mod ws;
