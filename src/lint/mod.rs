//! The production checklist over rendered objects.
