//! Integration tests: the real server on port 0 with a real SQLite file.

mod auth;
mod chat;
mod cli;
mod frames_prop;
mod headers;
mod helpers;
mod live;
mod malformed;
mod object_matrix;
mod object_policy;
mod route_matrix;
mod routing;
mod server;
mod socket_code;
mod tickets;
mod world;
mod ws;
