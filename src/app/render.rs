//! The image views through our own wgpu paint callback (shaders/slice.wgsl): the pipeline
//! is made once and kept in egui-wgpu's callback resources; each view (the short-axis
//! image, each long-axis pane) has its own uniform buffer and textures, so several images
//! are drawn in one frame; textures are uploaded only when a view's image (study, phase,
//! slice, label version) changes; window/level, zoom, pan, interpolation and overlay
//! opacity are uniforms.

use eframe::egui_wgpu::{self, wgpu};
use std::collections::HashMap;
use std::sync::Arc;

pub const SHADER: &str = include_str!("../../shaders/slice.wgsl");

/// What identifies the pixels on the GPU: re-upload when it changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageKey {
    pub study: u64,
    pub phase: usize,
    pub slice: usize,
    pub labels_version: u64,
}

/// Uniforms of one view in one frame (sent as [`UniformBlock`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SliceUniforms {
    pub panel_size_pt: [f32; 2],
    pub origin_pt: [f32; 2],
    pub image_size: [f32; 2],
    pub scale_pt: f32,
    pub window_center: f32,
    pub window_width: f32,
    pub label_opacity: f32,
    pub linear: bool,
    pub show_labels: bool,
}

/// Which view a paint callback draws: each has its own GPU resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ViewId {
    ShortAxis,
    /// A long-axis pane (0: the first, 1: the second).
    LongAxis(u8),
}

/// The uniform block as the shader reads it (`Uniforms` in slice.wgsl, 48 bytes).
#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct UniformBlock {
    panel_size_pt: [f32; 2],
    origin_pt: [f32; 2],
    image_size: [f32; 2],
    scale_pt: f32,
    window_center: f32,
    window_width: f32,
    label_opacity: f32,
    linear: u32,
    show_labels: u32,
}

impl SliceUniforms {
    fn block(&self) -> UniformBlock {
        UniformBlock {
            panel_size_pt: self.panel_size_pt,
            origin_pt: self.origin_pt,
            image_size: self.image_size,
            scale_pt: self.scale_pt,
            window_center: self.window_center,
            window_width: self.window_width,
            label_opacity: self.label_opacity,
            linear: self.linear as u32,
            show_labels: self.show_labels as u32,
        }
    }

    /// The uniform block's bytes.
    pub fn bytes(&self) -> [u8; 48] {
        bytemuck::cast(self.block())
    }
}

/// The pixels to show: intensities (row-major f32) and labels (u8), `columns x rows`.
pub struct ImageData {
    pub key: ImageKey,
    pub columns: u32,
    pub rows: u32,
    pub intensity: Arc<Vec<f32>>,
    pub labels: Arc<Vec<u8>>,
}

/// One view's textures: (image key, width, height, intensity, labels, bind group).
type ViewTextures = (
    ImageKey,
    u32,
    u32,
    wgpu::Texture,
    wgpu::Texture,
    wgpu::BindGroup,
);

/// One view's GPU objects.
struct ViewGpu {
    uniforms: wgpu::Buffer,
    textures: Option<ViewTextures>,
}

/// GPU objects: the pipeline made once, the rest per view.
pub struct SliceResources {
    pipeline: wgpu::RenderPipeline,
    layout: wgpu::BindGroupLayout,
    views: HashMap<ViewId, ViewGpu>,
    /// Number of texture uploads so far, all views.
    pub uploads: u64,
}

/// Creates the pipeline and stores it in the renderer's callback resources.
pub fn install(render_state: &egui_wgpu::RenderState) {
    let device = &render_state.device;
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("systole slice"),
        source: wgpu::ShaderSource::Wgsl(SHADER.into()),
    });
    let tex_entry = |binding, sample_type| wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::FRAGMENT,
        ty: wgpu::BindingType::Texture {
            sample_type,
            view_dimension: wgpu::TextureViewDimension::D2,
            multisampled: false,
        },
        count: None,
    };
    let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some("systole slice"),
        entries: &[
            wgpu::BindGroupLayoutEntry {
                binding: 0,
                visibility: wgpu::ShaderStages::VERTEX_FRAGMENT,
                ty: wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Uniform,
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                count: None,
            },
            tex_entry(1, wgpu::TextureSampleType::Float { filterable: false }),
            tex_entry(2, wgpu::TextureSampleType::Uint),
        ],
    });
    let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some("systole slice"),
        bind_group_layouts: &[Some(&layout)],
        immediate_size: 0,
    });
    let pipeline = device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
        label: Some("systole slice"),
        layout: Some(&pipeline_layout),
        vertex: wgpu::VertexState {
            module: &module,
            entry_point: Some("vs_main"),
            compilation_options: Default::default(),
            buffers: &[],
        },
        fragment: Some(wgpu::FragmentState {
            module: &module,
            entry_point: Some("fs_main"),
            compilation_options: Default::default(),
            targets: &[Some(render_state.target_format.into())],
        }),
        primitive: wgpu::PrimitiveState::default(),
        depth_stencil: None,
        multisample: wgpu::MultisampleState::default(),
        multiview_mask: None,
        cache: None,
    });
    render_state
        .renderer
        .write()
        .callback_resources
        .insert(SliceResources {
            pipeline,
            layout,
            views: HashMap::new(),
            uploads: 0,
        });
}

/// The per-frame callback of one view: the image (shared, not copied) and this frame's
/// uniforms.
pub struct SliceCallback {
    pub view: ViewId,
    pub image: Arc<ImageData>,
    pub uniforms: SliceUniforms,
}

fn texture(
    device: &wgpu::Device,
    w: u32,
    h: u32,
    format: wgpu::TextureFormat,
    label: &str,
) -> wgpu::Texture {
    device.create_texture(&wgpu::TextureDescriptor {
        label: Some(label),
        size: wgpu::Extent3d {
            width: w,
            height: h,
            depth_or_array_layers: 1,
        },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format,
        usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
        view_formats: &[],
    })
}

fn upload(
    queue: &wgpu::Queue,
    tex: &wgpu::Texture,
    bytes: &[u8],
    bytes_per_row: u32,
    w: u32,
    h: u32,
) {
    queue.write_texture(
        wgpu::TexelCopyTextureInfo {
            texture: tex,
            mip_level: 0,
            origin: wgpu::Origin3d::ZERO,
            aspect: wgpu::TextureAspect::All,
        },
        bytes,
        wgpu::TexelCopyBufferLayout {
            offset: 0,
            bytes_per_row: Some(bytes_per_row),
            rows_per_image: Some(h),
        },
        wgpu::Extent3d {
            width: w,
            height: h,
            depth_or_array_layers: 1,
        },
    );
}

impl egui_wgpu::CallbackTrait for SliceCallback {
    fn prepare(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        _screen: &egui_wgpu::ScreenDescriptor,
        _encoder: &mut wgpu::CommandEncoder,
        resources: &mut egui_wgpu::CallbackResources,
    ) -> Vec<wgpu::CommandBuffer> {
        let Some(res) = resources.get_mut::<SliceResources>() else {
            return Vec::new();
        };
        let view = res.views.entry(self.view).or_insert_with(|| ViewGpu {
            uniforms: device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("systole view uniforms"),
                size: std::mem::size_of::<UniformBlock>() as u64,
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            }),
            textures: None,
        });
        queue.write_buffer(&view.uniforms, 0, &self.uniforms.bytes());
        let img = &self.image;
        let (w, h) = (img.columns.max(1), img.rows.max(1));
        if img.intensity.len() != (w * h) as usize || img.labels.len() != (w * h) as usize {
            return Vec::new();
        }
        let same = matches!(&view.textures, Some((k, tw, th, ..)) if *k == img.key && *tw == w && *th == h);
        if !same {
            let size_ok = matches!(&view.textures, Some((_, tw, th, ..)) if *tw == w && *th == h);
            if !size_ok {
                let ti = texture(
                    device,
                    w,
                    h,
                    wgpu::TextureFormat::R32Float,
                    "systole intensity",
                );
                let tl = texture(device, w, h, wgpu::TextureFormat::R8Uint, "systole labels");
                let bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some("systole view"),
                    layout: &res.layout,
                    entries: &[
                        wgpu::BindGroupEntry {
                            binding: 0,
                            resource: view.uniforms.as_entire_binding(),
                        },
                        wgpu::BindGroupEntry {
                            binding: 1,
                            resource: wgpu::BindingResource::TextureView(
                                &ti.create_view(&Default::default()),
                            ),
                        },
                        wgpu::BindGroupEntry {
                            binding: 2,
                            resource: wgpu::BindingResource::TextureView(
                                &tl.create_view(&Default::default()),
                            ),
                        },
                    ],
                });
                view.textures = Some((img.key, w, h, ti, tl, bind));
            }
            if let Some((key, _, _, ti, tl, _)) = &mut view.textures {
                let bytes: Vec<u8> = img.intensity.iter().flat_map(|v| v.to_le_bytes()).collect();
                upload(queue, ti, &bytes, 4 * w, w, h);
                upload(queue, tl, &img.labels, w, w, h);
                *key = img.key;
                res.uploads += 1;
            }
        }
        Vec::new()
    }

    fn paint(
        &self,
        _info: egui::PaintCallbackInfo,
        pass: &mut wgpu::RenderPass<'static>,
        resources: &egui_wgpu::CallbackResources,
    ) {
        let Some(res) = resources.get::<SliceResources>() else {
            return;
        };
        let Some((.., bind)) = res.views.get(&self.view).and_then(|v| v.textures.as_ref()) else {
            return;
        };
        pass.set_pipeline(&res.pipeline);
        pass.set_bind_group(0, bind, &[]);
        pass.draw(0..6, 0..1);
    }
}

/// CPU rendering of the same picture (no wgpu, e.g. in interaction tests): window/level
/// and the label overlay at native resolution, as an egui image.
pub fn cpu_image(img: &ImageData, u: &SliceUniforms) -> egui::ColorImage {
    let (w, h) = (img.columns as usize, img.rows as usize);
    let lo = u.window_center - 0.5 * u.window_width;
    let mut pixels = Vec::with_capacity(w * h);
    for (i, &v) in img.intensity.iter().enumerate().take(w * h) {
        let g = ((v - lo) / u.window_width.max(1e-6)).clamp(0.0, 1.0);
        let mut rgb = [g, g, g];
        let l = img.labels.get(i).copied().unwrap_or(0);
        if u.show_labels && l != 0 {
            let c = match l {
                1 => [0.95, 0.15, 0.15],
                2 => [0.15, 0.85, 0.25],
                _ => [0.95, 0.85, 0.1],
            };
            for k in 0..3 {
                rgb[k] += (c[k] - rgb[k]) * u.label_opacity;
            }
        }
        pixels.push(egui::Color32::from_rgb(
            (rgb[0] * 255.0) as u8,
            (rgb[1] * 255.0) as u8,
            (rgb[2] * 255.0) as u8,
        ));
    }
    egui::ColorImage::new([w, h], pixels)
}
