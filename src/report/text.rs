//! Text for the report: which embedded font draws each character, and advance widths
//! for measuring and wrapping lines.
//!
//! The text face (Ubuntu Light) covers Latin, Greek and Cyrillic. Every other character
//! goes to the first fallback that has it, so that any DICOM PatientName prints: DejaVu
//! Sans (arrows and symbols, Arabic, Hebrew), Noto Sans Devanagari, WenQuanYi Micro Hei
//! (Chinese, Japanese, Korean). See assets/fonts/README.md for sources and licences.

/// The report's text faces, the first one preferred: (font file, index in a collection).
pub const TEXT_FACES: [(&[u8], u32); 4] = [
    (epaint_default_fonts::UBUNTU_LIGHT, 0),
    (include_bytes!("../../assets/fonts/DejaVuSans.ttf"), 0),
    (
        include_bytes!("../../assets/fonts/NotoSansDevanagari-Regular.ttf"),
        0,
    ),
    (include_bytes!("../../assets/fonts/wqy-microhei.ttc"), 0),
];

/// Drawn for a character no face has (the PDF may hold no missing glyph).
pub const REPLACEMENT: char = '?';

/// Faces and their advance widths, for choosing faces, measuring and wrapping lines.
pub struct Metrics {
    faces: Vec<Option<rustybuzz::Face<'static>>>,
}

impl Metrics {
    /// One face.
    pub fn new(data: &'static [u8]) -> Metrics {
        Metrics::with_fallbacks(&[(data, 0)])
    }

    /// The first face preferred, the others for characters it lacks.
    pub fn with_fallbacks(faces: &[(&'static [u8], u32)]) -> Metrics {
        Metrics {
            faces: faces
                .iter()
                .map(|&(data, index)| rustybuzz::Face::from_slice(data, index))
                .collect(),
        }
    }

    fn covers(&self, face: usize, c: char) -> bool {
        self.faces
            .get(face)
            .and_then(Option::as_ref)
            .is_some_and(|f| f.glyph_index(c).is_some())
    }

    /// `text` cut into runs of one face each: letters and digits the text face has are
    /// drawn in it; any other character continues the run it follows while that run's
    /// face has it (spaces and marks stay with the script around them, so a right-to-left
    /// name is shaped as one run); otherwise the first face that has it starts a new run. Characters no face has become [`REPLACEMENT`] in the first.
    pub fn runs(&self, text: &str) -> Vec<(usize, String)> {
        let mut runs: Vec<(usize, String)> = Vec::new();
        for c in text.chars() {
            // Letters and digits the text face has are always drawn in it.
            let prefer_text_face = c.is_alphanumeric() && self.covers(0, c);
            if let Some((face, run)) = runs.last_mut()
                && self.covers(*face, c)
                && (!prefer_text_face || *face == 0)
            {
                run.push(c);
                continue;
            }
            let (face, c) = (0..self.faces.len())
                .find(|&f| self.covers(f, c))
                .map_or((0, REPLACEMENT), |f| (f, c));
            match runs.last_mut() {
                Some((last, run)) if *last == face => run.push(c),
                _ => runs.push((face, c.to_string())),
            }
        }
        runs
    }

    /// Width of one face's run at `size` points, shaped as krilla shapes it (rustybuzz,
    /// direction from the text); 0.55 em per character where the face cannot be read.
    pub fn run_width(&self, face: usize, text: &str, size: f32) -> f32 {
        let Some(face) = self.faces.get(face).and_then(Option::as_ref) else {
            return text.chars().count() as f32 * 0.55 * size;
        };
        let mut buffer = rustybuzz::UnicodeBuffer::new();
        buffer.push_str(text);
        buffer.guess_segment_properties();
        let shaped = rustybuzz::shape(face, &[], buffer);
        let advance: i64 = shaped
            .glyph_positions()
            .iter()
            .map(|p| p.x_advance as i64)
            .sum();
        advance as f32 * size / face.units_per_em() as f32
    }

    /// Width of `text` at `size` points, each character in the face that draws it.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        self.runs(text)
            .iter()
            .map(|(face, run)| self.run_width(*face, run, size))
            .sum()
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

    #[test]
    fn every_script_of_a_patient_name_finds_a_face() {
        let m = Metrics::with_fallbacks(&TEXT_FACES);
        // Latin and Cyrillic stay in the text face.
        assert_eq!(m.runs("Müller^Иван"), vec![(0, "Müller^Иван".to_string())]);
        // A Japanese name after Latin text: one run for the name.
        assert_eq!(
            m.runs("Name 山田^太郎"),
            vec![(0, "Name ".to_string()), (3, "山田^太郎".to_string())]
        );
        // An Arabic name with its space is one run (shaped right to left as a whole).
        let arabic = m.runs("محمد علي");
        assert_eq!(arabic, vec![(1, "محمد علي".to_string())]);
        // Devanagari with its vowel signs; Korean; an arrow.
        assert_eq!(m.runs("देवनागरी")[0].0, 2);
        assert_eq!(m.runs("김민수")[0].0, 3);
        assert_eq!(
            m.runs("a → b"),
            vec![
                (0, "a ".to_string()),
                (1, "→ ".to_string()),
                (0, "b".to_string())
            ]
        );
        // Nothing has a private-use character: it becomes the replacement.
        assert_eq!(m.runs("\u{E000}"), vec![(0, "?".to_string())]);
    }
}
