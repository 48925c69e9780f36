//! The SCIM 2.0 bearer-token gate.
