//! placeholder
#[derive(Debug, Clone, PartialEq)]
pub struct UpgradeError {
    pub pointer: String,
    pub message: String,
}
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceVersion {
    Swagger2,
    OpenApi30,
    OpenApi31,
}
pub fn upgrade_to_31(
    doc: &mut serde_json::Value,
) -> Result<(SourceVersion, Vec<UpgradeError>), UpgradeError> {
    let _ = doc;
    Ok((SourceVersion::OpenApi31, vec![]))
}
