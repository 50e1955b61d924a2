//! Every WGSL shader in shaders/ parses and validates with naga (wgpu's shader compiler),
//! so a broken shader fails here and not on a user's GPU.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

#[test]
fn every_shader_validates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("shaders/ exists") {
        let path = entry.expect("readable entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("wgsl") {
            continue;
        }
        let src = std::fs::read_to_string(&path).expect("readable shader");
        let module = naga::front::wgsl::parse_str(&src)
            .unwrap_or_else(|e| panic!("{}: {}", path.display(), e.emit_to_string(&src)));
        let mut v = naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::empty(),
        );
        if let Err(e) = v.validate(&module) {
            panic!("{}: {}", path.display(), e.emit_to_string(&src));
        }
        // The entry points the pipeline asks for exist.
        let names: Vec<&str> = module
            .entry_points
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        assert!(
            names.contains(&"vs_main") && names.contains(&"fs_main"),
            "{}: {names:?}",
            path.display()
        );
        n += 1;
    }
    assert!(n >= 1, "no shader found in {}", dir.display());
}

/// The uniform block the Rust side fills is the size the shader declares (48 bytes).
#[test]
fn uniform_layout_matches_the_shader() {
    let src = systole::app::render::SHADER;
    let module = naga::front::wgsl::parse_str(src).expect("parses");
    let ty = module
        .types
        .iter()
        .find(|(_, t)| t.name.as_deref() == Some("Uniforms"))
        .expect("Uniforms struct")
        .1;
    let size = match &ty.inner {
        naga::TypeInner::Struct { span, .. } => *span,
        other => panic!("{other:?}"),
    };
    let u = systole::app::render::SliceUniforms {
        panel_size_pt: [1.0, 2.0],
        origin_pt: [3.0, 4.0],
        image_size: [5.0, 6.0],
        scale_pt: 7.0,
        window_center: 8.0,
        window_width: 9.0,
        label_opacity: 0.5,
        linear: true,
        show_labels: false,
    };
    let b = u.bytes();
    assert_eq!(b.len() as u32, size);
    // Field offsets as WGSL lays them out: scale_pt at 24, linear at 40.
    assert_eq!(f32::from_le_bytes([b[24], b[25], b[26], b[27]]), 7.0);
    assert_eq!(u32::from_le_bytes([b[40], b[41], b[42], b[43]]), 1);
    assert_eq!(u32::from_le_bytes([b[44], b[45], b[46], b[47]]), 0);
}
