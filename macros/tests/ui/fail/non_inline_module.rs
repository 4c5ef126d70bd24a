#[mcpgen::server(spec = "specs/petstore.yaml")]
mod petstore;

fn main() {}
