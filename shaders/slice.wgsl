// One short-axis image in the viewport: intensities from an r32float texture with window
// and level applied here, and the label map (r8uint: 0 background, 1 LV blood pool,
// 2 myocardium, 3 RV blood pool) as a translucent overlay.
//
// The quad covers the viewport's panel; `origin_pt` and `scale_pt` place the image in it
// (zoom and pan), in points. Pixel (column, row) has its centre at (column + 0.5, row + 0.5)
// image units from the top-left corner.

struct Uniforms {
    panel_size_pt: vec2<f32>,
    origin_pt: vec2<f32>,
    image_size: vec2<f32>,
    // Points per image pixel.
    scale_pt: f32,
    window_center: f32,
    window_width: f32,
    label_opacity: f32,
    // 1: bilinear interpolation of intensities; 0: nearest pixel.
    linear: u32,
    show_labels: u32,
};

@group(0) @binding(0) var<uniform> u: Uniforms;
@group(0) @binding(1) var intensity: texture_2d<f32>;
@group(0) @binding(2) var labels: texture_2d<u32>;

struct VertexOut {
    @builtin(position) position: vec4<f32>,
    @location(0) panel_pt: vec2<f32>,
};

@vertex
fn vs_main(@builtin(vertex_index) i: u32) -> VertexOut {
    // Two triangles covering clip space; the viewport is the panel.
    var corners = array<vec2<f32>, 6>(
        vec2<f32>(0.0, 0.0), vec2<f32>(1.0, 0.0), vec2<f32>(0.0, 1.0),
        vec2<f32>(0.0, 1.0), vec2<f32>(1.0, 0.0), vec2<f32>(1.0, 1.0),
    );
    let c = corners[i];
    var out: VertexOut;
    out.position = vec4<f32>(c.x * 2.0 - 1.0, 1.0 - c.y * 2.0, 0.0, 1.0);
    out.panel_pt = c * u.panel_size_pt;
    return out;
}

fn texel(p: vec2<i32>) -> f32 {
    let size = vec2<i32>(textureDimensions(intensity));
    let q = clamp(p, vec2<i32>(0, 0), size - vec2<i32>(1, 1));
    return textureLoad(intensity, q, 0).r;
}

fn sample_intensity(img: vec2<f32>) -> f32 {
    if (u.linear == 0u) {
        return texel(vec2<i32>(floor(img)));
    }
    // Bilinear between the four nearest pixel centres.
    let t = img - vec2<f32>(0.5, 0.5);
    let base = floor(t);
    let f = t - base;
    let b = vec2<i32>(base);
    let top = mix(texel(b), texel(b + vec2<i32>(1, 0)), f.x);
    let bottom = mix(texel(b + vec2<i32>(0, 1)), texel(b + vec2<i32>(1, 1)), f.x);
    return mix(top, bottom, f.y);
}

fn label_colour(v: u32) -> vec3<f32> {
    switch v {
        case 1u: { return vec3<f32>(0.95, 0.15, 0.15); }
        case 2u: { return vec3<f32>(0.15, 0.85, 0.25); }
        case 3u: { return vec3<f32>(0.95, 0.85, 0.1); }
        default: { return vec3<f32>(0.0, 0.0, 0.0); }
    }
}

@fragment
fn fs_main(in: VertexOut) -> @location(0) vec4<f32> {
    let img = (in.panel_pt - u.origin_pt) / u.scale_pt;
    if (img.x < 0.0 || img.y < 0.0 || img.x >= u.image_size.x || img.y >= u.image_size.y) {
        return vec4<f32>(0.0, 0.0, 0.0, 1.0);
    }
    let v = sample_intensity(img);
    let lo = u.window_center - 0.5 * u.window_width;
    let g = clamp((v - lo) / max(u.window_width, 1e-6), 0.0, 1.0);
    var rgb = vec3<f32>(g, g, g);
    if (u.show_labels != 0u) {
        let l = textureLoad(labels, vec2<i32>(floor(img)), 0).r;
        if (l != 0u) {
            rgb = mix(rgb, label_colour(l), u.label_opacity);
        }
    }
    return vec4<f32>(rgb, 1.0);
}
