#[mcpgen::server(
    spec = "specs/petstore.yaml",
    describe(get_store_inventory = "Counts pets by status."),
)]
pub mod petstore {}

fn main() {}
