//! Text measurement for the report's layout: advance widths from the font's own tables.

/// A font's advance widths, for measuring and wrapping lines.
pub struct Metrics {
    face: Option<ttf_parser::Face<'static>>,
}

impl Metrics {
    pub fn new(data: &'static [u8]) -> Metrics {
        Metrics {
            face: ttf_parser::Face::parse(data, 0).ok(),
        }
    }

    /// Width of `text` at `size` points (no kerning; a fallback of 0.55 em per character
    /// if the font cannot be read).
    pub fn width(&self, text: &str, size: f32) -> f32 {
        let Some(face) = &self.face else {
            return text.chars().count() as f32 * 0.55 * size;
        };
        let upem = face.units_per_em() as f32;
        text.chars()
            .map(|c| {
                face.glyph_index(c)
                    .and_then(|g| face.glyph_hor_advance(g))
                    .map_or(0.55 * upem, f32::from)
            })
            .sum::<f32>()
            * size
            / upem
    }

    /// Breaks `text` into lines no wider than `max_width` at word boundaries (a word
    /// longer than a line gets a line of its own); explicit newlines are kept.
    pub fn wrap(&self, text: &str, size: f32, max_width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for para in text.split('\n') {
            let mut line = String::new();
            for word in para.split_whitespace() {
                let candidate = if line.is_empty() {
                    word.to_string()
                } else {
                    format!("{line} {word}")
                };
                if self.width(&candidate, size) <= max_width || line.is_empty() {
                    line = candidate;
                } else {
                    lines.push(std::mem::take(&mut line));
                    line = word.to_string();
                }
            }
            lines.push(line);
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_scale_with_size_and_wrapping_respects_the_width() {
        let m = Metrics::new(epaint_default_fonts::UBUNTU_LIGHT);
        let w10 = m.width("Ejection fraction", 10.0);
        assert!(w10 > 40.0 && w10 < 120.0, "{w10}");
        assert!((m.width("Ejection fraction", 20.0) - 2.0 * w10).abs() < 1e-3);
        let text = "Normal left ventricular size and systolic function. No regional wall motion abnormality.";
        let lines = m.wrap(text, 10.0, 150.0);
        assert!(lines.len() >= 3);
        assert!(lines.iter().all(|l| m.width(l, 10.0) <= 150.0));
        assert_eq!(lines.join(" "), text);
        assert_eq!(m.wrap("a\nb", 10.0, 100.0), vec!["a", "b"]);
    }
}
