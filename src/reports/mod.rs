pub mod daily;
pub mod store;
