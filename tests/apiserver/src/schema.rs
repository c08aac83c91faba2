//! Validation of objects against CRD OpenAPI v3 structural schemas.
