fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Ricochet patch: use the protoc shipped by the protoc-bin-vendored crate, so a build
    // needs nothing beyond crates.io (an explicit PROTOC still wins).
    if std::env::var_os("PROTOC").is_none() {
        std::env::set_var("PROTOC", protoc_bin_vendored::protoc_bin_path()?);
    }
    tonic_build::configure()
        .protoc_arg("--experimental_allow_proto3_optional")
        .build_client(false)
        .compile(
            &["proto/plugin.proto", "proto/tfplugin6.5.proto"],
            &["proto"],
        )?;
    Ok(())
}
