//! Operations a provisioning client performs, and the classification of a request's method
//! and endpoint into them.
//!
//! Operations are named after what Okta and Entra ID do, not after HTTP methods, because one
//! method covers several of them: a `PATCH` of a User is an update or a deactivation
//! depending on its body, which [`super::body`] reads.

use std::fmt;

/// One thing a token may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operation {
    /// Every `GET`, and `POST …/.search`: lookups, imports, test connection and discovery.
    Read,
    /// `POST /Users`.
    CreateUsers,
    /// `PUT` of a User, and `PATCH` of any User attribute other than `active`, including
    /// reactivation (`active` set to true).
    UpdateUsers,
    /// `PATCH` that sets `active` to false or removes it, and `PUT` of a User with
    /// `active` false.
    DeactivateUsers,
    /// `DELETE /Users/{id}`. Not in the default set: provisioning clients deactivate.
    DeleteUsers,
    /// `POST /Groups`, and `PUT` or `PATCH` of a Group (renames and membership).
    PushGroups,
    /// `DELETE /Groups/{id}`.
    DeleteGroups,
}

impl Operation {
    pub const ALL: [Operation; 7] = [
        Self::Read,
        Self::CreateUsers,
        Self::UpdateUsers,
        Self::DeactivateUsers,
        Self::DeleteUsers,
        Self::PushGroups,
        Self::DeleteGroups,
    ];

    /// Returns the name used in the configuration, logs and `WWW-Authenticate` scopes.
    pub fn name(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::CreateUsers => "create_users",
            Self::UpdateUsers => "update_users",
            Self::DeactivateUsers => "deactivate_users",
            Self::DeleteUsers => "delete_users",
            Self::PushGroups => "push_groups",
            Self::DeleteGroups => "delete_groups",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.name() == name)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of operations.
#[derive(Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct OperationSet(u8);

impl OperationSet {
    pub const EMPTY: OperationSet = OperationSet(0);

    /// What Okta and Entra ID need for the reference deployment: read, create users, update
    /// users, deactivate users. A token without `operations` in the configuration gets this.
    pub fn reference_default() -> Self {
        Self::from_iter([Operation::Read, Operation::CreateUsers, Operation::UpdateUsers, Operation::DeactivateUsers])
    }

    pub fn all() -> Self {
        Self::from_iter(Operation::ALL)
    }

    pub fn of(operation: Operation) -> Self {
        Self(operation.bit())
    }

    pub fn with(self, operation: Operation) -> Self {
        Self(self.0 | operation.bit())
    }

    pub fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    pub fn without(self, operation: Operation) -> Self {
        Self(self.0 & !operation.bit())
    }

    /// Returns the operations of `self` that are not in `other`.
    pub fn difference(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }

    pub fn contains(self, operation: Operation) -> bool {
        self.0 & operation.bit() != 0
    }

    pub fn intersects(self, other: Self) -> bool {
        self.0 & other.0 != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Operation> {
        Operation::ALL.into_iter().filter(move |op| self.contains(*op))
    }

    /// Returns the names, for JSON.
    pub fn names(self) -> Vec<&'static str> {
        self.iter().map(Operation::name).collect()
    }
}

impl FromIterator<Operation> for OperationSet {
    fn from_iter<I: IntoIterator<Item = Operation>>(iter: I) -> Self {
        iter.into_iter().fold(Self::EMPTY, Self::with)
    }
}

/// Space-separated names, the `scope` syntax of RFC 6750 §3.
impl fmt::Display for OperationSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.names().join(" "))
    }
}

impl fmt::Debug for OperationSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{self}}}")
    }
}

/// A SCIM endpoint, from the part of the path after the guarded prefix (RFC 7644 §3.2).
/// Resource type names match in any letter case, because several SCIM servers accept
/// `/users` for `/Users` and a policy that only knew one spelling could be bypassed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `/Users`.
    Users,
    /// `/Users/{id}`.
    User,
    /// `/Groups`.
    Groups,
    /// `/Groups/{id}`.
    Group,
    /// `/.search`, `/Users/.search`, `/Groups/.search`.
    Search,
    /// `/ServiceProviderConfig`, `/ResourceTypes[/…]`, `/Schemas[/…]`.
    Discovery,
    /// `/Bulk`, which the gate does not classify.
    Bulk,
    /// `/Me`, which has no meaning for a provisioning client's token.
    Me,
    /// The service root and anything else.
    Other,
}

impl Endpoint {
    /// Returns the methods RFC 7644 §3.2 defines on the endpoint, for an `Allow` header, or
    /// `None` where the gate does not know them.
    pub fn allowed_methods(self) -> Option<&'static str> {
        match self {
            Self::Users | Self::Groups => Some("GET, HEAD, POST"),
            Self::User | Self::Group => Some("GET, HEAD, PUT, PATCH, DELETE"),
            Self::Search => Some("POST"),
            Self::Discovery => Some("GET, HEAD"),
            Self::Bulk | Self::Me | Self::Other => None,
        }
    }

    /// Classifies `rest`, the path after the prefix without its query: `""`, `/Users`,
    /// `/Users/2819c223`. A trailing `/` is ignored.
    pub fn from_path(rest: &str) -> Self {
        let trimmed = rest.strip_suffix('/').unwrap_or(rest);
        let mut segments = trimmed.split('/').skip(1);
        let first = segments.next().unwrap_or("");
        let second = segments.next();
        let deeper = segments.next().is_some();
        let is = |name: &str| first.eq_ignore_ascii_case(name);

        match (second, deeper) {
            (_, true) => Self::Other,
            (None, _) if first == ".search" => Self::Search,
            (None, _) if is("Users") => Self::Users,
            (None, _) if is("Groups") => Self::Groups,
            (None, _) if is("Bulk") => Self::Bulk,
            (None, _) if is("Me") => Self::Me,
            (Some(".search"), _) if is("Users") || is("Groups") => Self::Search,
            (Some(_), _) if is("Users") => Self::User,
            (Some(_), _) if is("Groups") => Self::Group,
            (Some(_), _) if is("Me") => Self::Me,
            _ if is("ServiceProviderConfig") || is("ServiceProviderConfigs") => Self::Discovery,
            _ if is("ResourceTypes") || is("Schemas") => Self::Discovery,
            _ => Self::Other,
        }
    }
}

/// What the body of a request must be, when its operation or validity depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// `POST /Users`: a User.
    CreateUser,
    /// `PUT /Users/{id}`: a User, whose `active` decides update or deactivation.
    ReplaceUser,
    /// `PATCH /Users/{id}`: a PatchOp, whose operations decide update or deactivation.
    PatchUser,
    /// `POST /Groups`, `PUT /Groups/{id}`: a Group.
    Group,
    /// `PATCH /Groups/{id}`: a PatchOp.
    PatchGroup,
    /// `POST …/.search`: a JSON object (a SearchRequest).
    Search,
}

/// The result of classifying a method and endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Classification {
    /// The operations are known and the body does not matter.
    Decided(OperationSet),
    /// The body must be read. Every valid body requires a non-empty subset of `candidates`.
    NeedsBody { kind: BodyKind, candidates: OperationSet },
    /// A SCIM feature the gate does not classify (bulk requests, `/Me`).
    NotImplemented,
    /// A method that RFC 7644 does not define on this endpoint. `allow` lists the ones it does.
    MethodNotAllowed { allow: &'static str },
    /// A method other than `GET` or `HEAD` on an endpoint the gate does not know.
    Uncovered,
}

/// Classifies a request from its method and endpoint. Methods are case-sensitive (RFC 9110
/// §9.1), so `get` is not `GET`.
pub fn classify(method: &str, endpoint: Endpoint) -> Classification {
    use Classification::{Decided, MethodNotAllowed, NeedsBody, NotImplemented, Uncovered};
    use Operation::*;

    let needs = |kind, operation| NeedsBody { kind, candidates: OperationSet::of(operation) };
    let user_change = OperationSet::of(UpdateUsers).with(DeactivateUsers);

    match (method, endpoint) {
        (_, Endpoint::Bulk | Endpoint::Me) => NotImplemented,
        ("GET" | "HEAD", _) => Decided(OperationSet::of(Read)),
        ("POST", Endpoint::Search) => needs(BodyKind::Search, Read),
        ("POST", Endpoint::Users) => needs(BodyKind::CreateUser, CreateUsers),
        ("PUT", Endpoint::User) => NeedsBody { kind: BodyKind::ReplaceUser, candidates: user_change },
        ("PATCH", Endpoint::User) => NeedsBody { kind: BodyKind::PatchUser, candidates: user_change },
        ("DELETE", Endpoint::User) => Decided(OperationSet::of(DeleteUsers)),
        ("POST", Endpoint::Groups) | ("PUT", Endpoint::Group) => needs(BodyKind::Group, PushGroups),
        ("PATCH", Endpoint::Group) => needs(BodyKind::PatchGroup, PushGroups),
        ("DELETE", Endpoint::Group) => Decided(OperationSet::of(DeleteGroups)),
        _ => match endpoint.allowed_methods() {
            Some(allow) => MethodNotAllowed { allow },
            None => Uncovered,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_round_trip() {
        for op in Operation::ALL {
            assert_eq!(Operation::from_name(op.name()), Some(op), "{op:?}");
        }
    }

    #[test]
    fn default_excludes_deletes() {
        let default = OperationSet::reference_default();
        assert!(!default.contains(Operation::DeleteUsers), "delete_users must be opt-in");
        assert!(!default.contains(Operation::PushGroups), "groups are not in the reference deployment");
        assert_eq!(default.to_string(), "read create_users update_users deactivate_users");
    }

    #[test]
    fn set_difference() {
        let all = OperationSet::all();
        let missing = all.difference(OperationSet::reference_default());
        assert_eq!(missing.to_string(), "delete_users push_groups delete_groups");
    }

    #[test]
    fn endpoint_table() {
        let cases = [
            ("", Endpoint::Other),
            ("/", Endpoint::Other),
            ("/Users", Endpoint::Users),
            ("/users/", Endpoint::Users),
            ("/Users/2819c223-7f76", Endpoint::User),
            ("/Users/.search", Endpoint::Search),
            ("/.search", Endpoint::Search),
            ("/Groups", Endpoint::Groups),
            ("/GROUPS/e9e30dba", Endpoint::Group),
            ("/Groups/.search", Endpoint::Search),
            ("/ServiceProviderConfig", Endpoint::Discovery),
            ("/ResourceTypes/User", Endpoint::Discovery),
            ("/Schemas", Endpoint::Discovery),
            ("/Bulk", Endpoint::Bulk),
            ("/Me", Endpoint::Me),
            ("/Users/1/manager", Endpoint::Other),
            ("/Devices", Endpoint::Other),
        ];
        for (path, expected) in cases {
            assert_eq!(Endpoint::from_path(path), expected, "path {path:?}");
        }
    }

    #[test]
    fn classify_table() {
        use Classification::*;
        let one = OperationSet::of;
        let cases = [
            ("GET", Endpoint::Users, Decided(one(Operation::Read))),
            ("GET", Endpoint::Other, Decided(one(Operation::Read))),
            ("DELETE", Endpoint::User, Decided(one(Operation::DeleteUsers))),
            ("DELETE", Endpoint::Group, Decided(one(Operation::DeleteGroups))),
            ("POST", Endpoint::Bulk, NotImplemented),
            ("GET", Endpoint::Me, NotImplemented),
            ("DELETE", Endpoint::Users, MethodNotAllowed { allow: "GET, HEAD, POST" }),
            ("POST", Endpoint::User, MethodNotAllowed { allow: "GET, HEAD, PUT, PATCH, DELETE" }),
            ("PUT", Endpoint::Discovery, MethodNotAllowed { allow: "GET, HEAD" }),
            ("DELETE", Endpoint::Search, MethodNotAllowed { allow: "POST" }),
            ("OPTIONS", Endpoint::Users, MethodNotAllowed { allow: "GET, HEAD, POST" }),
            ("get", Endpoint::Users, MethodNotAllowed { allow: "GET, HEAD, POST" }),
            ("POST", Endpoint::Other, Uncovered),
            ("DELETE", Endpoint::Other, Uncovered),
        ];
        for (method, endpoint, expected) in cases {
            assert_eq!(classify(method, endpoint), expected, "{method} {endpoint:?}");
        }
    }

    #[test]
    fn classify_user_patch_needs_body() {
        let classification = classify("PATCH", Endpoint::User);
        let Classification::NeedsBody { kind, candidates } = classification else {
            panic!("PATCH of a User must wait for the body, got {classification:?}");
        };
        assert_eq!(kind, BodyKind::PatchUser);
        assert_eq!(candidates.to_string(), "update_users deactivate_users");
    }
}
