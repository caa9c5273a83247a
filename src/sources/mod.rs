//! Where a chain can start other than long-term keys.

pub mod login;
