//! Kubernetes API server stand-in for tests.

pub mod schema;
