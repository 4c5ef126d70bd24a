// The server name becomes the crate's name wherever the same settings generate a crate: a
// quote or a line break in it is refused, not written.
#[mcpgen::server(spec = "specs/petstore.yaml", server_name = "pets\"\n[patch.crates-io]")]
pub mod petstore {}

fn main() {}
