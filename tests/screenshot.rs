//! Screenshot mode as CI runs it: the real window under Xvfb with Mesa's lavapipe
//! (WGPU_BACKEND=vulkan), a Sunnybrook study segmented, and the saved picture must show
//! the three contour colours (LV endocardium red, LV epicardium green, RV yellow).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;

/// Pixels near `want` in the middle of the window (the viewport; the volume curve, which
/// uses the same colours, sits in the right panel).
fn count_colour(rgba: &[u8], width: usize, want: [u8; 3]) -> usize {
    let height = rgba.len() / 4 / width;
    let mut n = 0;
    for y in height / 10..height * 7 / 10 {
        for x in width / 4..width * 7 / 10 {
            let p = &rgba[(y * width + x) * 4..(y * width + x) * 4 + 3];
            n += p
                .iter()
                .zip(want)
                .all(|(a, b)| (*a as i32 - b as i32).abs() <= 40) as usize;
        }
    }
    n
}

#[test]
fn screenshot_of_a_segmented_sunnybrook_study_shows_all_three_contours() {
    let study = common::shared_data().join("sunnybrook/SCD0000101");
    let out = tempfile::tempdir().unwrap();
    let png_path = out.path().join("shot.png");
    let panel = out.path().join("panel.json");
    let xvfb = std::path::Path::new("/usr/bin/xvfb-run");
    assert!(
        xvfb.exists(),
        "xvfb-run not found at {} (Debian package xvfb; .ci/run installs it)",
        xvfb.display()
    );
    let o = Command::new(xvfb)
        .args(["-a", "-s", "-screen 0 1600x1000x24"])
        .arg(env!("CARGO_BIN_EXE_systole"))
        .arg(&study)
        .arg("--screenshot")
        .arg(&png_path)
        .args([
            "--segment",
            "--slice",
            "7",
            "--phase",
            "0",
            "--measures-json",
        ])
        .arg(&panel)
        .env("WGPU_BACKEND", "vulkan")
        .env("XDG_CONFIG_HOME", out.path())
        .output()
        .expect("run xvfb-run");
    assert!(
        o.status.success(),
        "screenshot mode failed: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&png_path).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgba);
    let px = &buf[..info.buffer_size()];
    let w = info.width as usize;
    let (red, green, yellow) = (
        count_colour(px, w, [230, 40, 40]),
        count_colour(px, w, [40, 210, 70]),
        count_colour(px, w, [240, 215, 30]),
    );
    assert!(
        red > 50 && green > 50 && yellow > 20,
        "contour pixels: red {red}, green {green}, yellow {yellow}"
    );
    // The panel's measures are the command line's: `systole segment` on the same study.
    let seg = out.path().join("seg");
    let o = Command::new(env!("CARGO_BIN_EXE_systole"))
        .arg("segment")
        .arg(&study)
        .arg("--out")
        .arg(&seg)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let read = |p: &std::path::Path| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
    };
    assert_eq!(read(&panel), read(&seg.join("measures.json")));
    // Screenshot mode leaves the Recent list alone.
    assert!(!out.path().join("systole/recent.json").exists());
}
