//! Rendering Kubernetes objects from templates: embedded defaults, overridable
//! by file name from a user directory. Pure: no cluster access.

mod object;

pub use object::Object;
