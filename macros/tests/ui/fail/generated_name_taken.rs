#[mcpgen::server(spec = "specs/petstore.yaml")]
pub mod petstore {
    pub struct Server;
}

fn main() {}
