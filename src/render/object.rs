/// One rendered Kubernetes object.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    pub value: serde_json::Value,
}

impl Object {
    fn meta_str(&self, key: &str) -> &str {
        self.value["metadata"][key].as_str().unwrap_or("")
    }
    pub fn api_version(&self) -> &str {
        self.value["apiVersion"].as_str().unwrap_or("")
    }
    pub fn kind(&self) -> &str {
        self.value["kind"].as_str().unwrap_or("")
    }
    pub fn name(&self) -> &str {
        self.meta_str("name")
    }
    pub fn namespace(&self) -> &str {
        self.meta_str("namespace")
    }
    /// The server the object belongs to (`app.kubernetes.io/name` label).
    pub fn server(&self) -> &str {
        self.value["metadata"]["labels"][super::context::labels::NAME]
            .as_str()
            .unwrap_or("")
    }
}
