//! Line plots drawn with the `image` crate: [`render_panels`] draws stacked panels of
//! series with axes, tick labels, legend and title; [`plot_curves`] turns metrics records
//! into the training-loss and PSNR panels and writes them as a PNG.

use super::font::{draw_text, draw_text_vertical, text_height, text_width};
use super::grid::encode_png;
use crate::checkpoint::write_atomic;
use crate::error::Result;
use image::{Rgb, RgbImage};
use std::path::Path;

/// The series colours, in order (matplotlib's "tab10"): series `i` of a panel is drawn in
/// `PALETTE[i % 10]`, in its line, its markers and its legend entry.
pub const PALETTE: [[u8; 3]; 10] = [
    [31, 119, 180],
    [255, 127, 14],
    [44, 160, 44],
    [214, 39, 40],
    [148, 103, 189],
    [140, 86, 75],
    [227, 119, 194],
    [127, 127, 127],
    [188, 189, 34],
    [23, 190, 207],
];

const WHITE: Rgb<u8> = Rgb([255, 255, 255]);
const BLACK: Rgb<u8> = Rgb([0, 0, 0]);
const FRAME: Rgb<u8> = Rgb([60, 60, 60]);
const GRID: Rgb<u8> = Rgb([228, 228, 228]);
const NOTE: Rgb<u8> = Rgb([150, 150, 150]);
const LEGEND_BORDER: Rgb<u8> = Rgb([190, 190, 190]);

/// Series with at most this many drawable points also get a square marker at each point.
const MARKER_MAX_POINTS: usize = 60;

/// One named line of a [`Panel`].
///
/// ```
/// let s = wno_trainer::report::Series { name: "loss".into(), points: vec![(0.0, 1.0), (1.0, 0.5)] };
/// assert_eq!(s.points.len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    /// The legend entry.
    pub name: String,
    /// `(x, y)` points, joined in the given order; points with a non-finite coordinate (and,
    /// on a log axis, a non-positive `y`) are skipped.
    pub points: Vec<(f64, f64)>,
}

/// One plot of [`render_panels`]: a title, a y-axis label and its series.
///
/// ```
/// use wno_trainer::report::{Panel, Series};
/// let p = Panel { title: "loss".into(), y_label: "L1".into(), log_y: true,
///                 series: vec![Series { name: "train".into(), points: vec![(1.0, 0.3)] }] };
/// assert!(p.log_y);
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Panel {
    /// Drawn centred above the plot.
    pub title: String,
    /// Drawn vertically left of the y axis.
    pub y_label: String,
    /// Whether the y axis is logarithmic (base 10).
    pub log_y: bool,
    /// The lines, coloured by [`PALETTE`] in order.
    pub series: Vec<Series>,
}

/// Writes a PNG with two panels from metrics records:
///  top: training loss (records with "kind" == "train": x = "step", y = "loss") on a log10 y axis;
///  bottom: PSNR in dB from records with "kind" == "eval": x = "step", series "teacher_psnr_mean", "free_psnr", and "bicubic_psnr" (whichever are present as numbers).
/// Axes with tick labels (numbers), a legend naming each series by colour, a title per panel. Missing panels (no such records) are drawn empty with a "no data" note; no panic on empty input, NaN values are skipped.
///
/// The image is 960 x 720 pixels (two panels of 960 x 360); points are sorted by step. The
/// loss series is [`PALETTE`]`[0]`; the PSNR series take the palette in the order listed
/// above, counting only those present. The file is written atomically (temp file + rename)
/// and its folder created.
///
/// ```
/// use serde_json::json;
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("curves.png");
/// let records = vec![
///     json!({"kind": "train", "step": 1, "loss": 0.5}),
///     json!({"kind": "train", "step": 2, "loss": 0.25}),
///     json!({"kind": "eval", "step": 2, "free_psnr": 18.5, "bicubic_psnr": 20.0}),
/// ];
/// wno_trainer::report::plot_curves(&records, &path).unwrap();
/// assert_eq!(image::open(&path).unwrap().to_rgb8().dimensions(), (960, 720));
/// wno_trainer::report::plot_curves(&[], &path).unwrap(); // empty: two "no data" panels
/// ```
///
/// # Errors
/// [`crate::TrainerError::ImageWrite`] when encoding fails, [`crate::TrainerError::Io`] when
/// the file cannot be written.
pub fn plot_curves(records: &[serde_json::Value], path: &Path) -> Result<()> {
    let kind_is =
        |r: &serde_json::Value, k: &str| r.get("kind").and_then(|v| v.as_str()) == Some(k);
    let series_of = |kind: &str, key: &str| -> Vec<(f64, f64)> {
        let mut pts: Vec<(f64, f64)> = records
            .iter()
            .filter(|r| kind_is(r, kind))
            .filter_map(|r| {
                let x = r.get("step")?.as_f64()?;
                let y = r.get(key)?.as_f64()?;
                Some((x, y))
            })
            .collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        pts
    };
    let loss = series_of("train", "loss");
    let train = Panel {
        title: "training loss vs step".into(),
        y_label: "loss (log scale)".into(),
        log_y: true,
        series: if loss.is_empty() {
            Vec::new()
        } else {
            vec![Series {
                name: "loss".into(),
                points: loss,
            }]
        },
    };
    let eval = Panel {
        title: "evaluation PSNR vs step".into(),
        y_label: "PSNR (dB)".into(),
        log_y: false,
        series: ["teacher_psnr_mean", "free_psnr", "bicubic_psnr"]
            .iter()
            .map(|key| Series {
                name: (*key).to_string(),
                points: series_of("eval", key),
            })
            .filter(|s| !s.points.is_empty())
            .collect(),
    };
    let img = render_panels(&[train, eval], 960, 360);
    let bytes = encode_png(&img, "plot_curves", path)?;
    write_atomic(path, &bytes)
}

/// Lower-level: the generic plot used above.
///
/// Draws `panels` stacked top to bottom, each `width` x `panel_height` pixels, on white: a
/// title, a framed plot area with light grid lines at the ticks, numeric tick labels on both
/// axes (1-2-5 steps; on a log axis at 1, 2 and 5 times powers of ten), the y label written
/// vertically, the series as 2-pixel lines in [`PALETTE`] colours (with square markers when
/// a series has few points), and a legend in the corner that covers the fewest points. A
/// panel without any drawable point says "no data". Sizes below 1 are raised to 1; parts
/// that do not fit a small image are left out. The text is a 5x7 bitmap font, doubled when
/// the panels are at least 480 x 180.
///
/// ```
/// use wno_trainer::report::{render_panels, Panel, Series, PALETTE};
/// let panel = Panel { title: "demo".into(), y_label: "y".into(), log_y: false,
///     series: vec![Series { name: "line".into(), points: vec![(0.0, 0.0), (10.0, 5.0)] }] };
/// let img = render_panels(&[panel, Panel::default()], 400, 200);
/// assert_eq!(img.dimensions(), (400, 400));
/// assert!(img.pixels().any(|p| p.0 == PALETTE[0]));
/// ```
pub fn render_panels(panels: &[Panel], width: u32, panel_height: u32) -> RgbImage {
    let width = width.max(1);
    let panel_height = panel_height.max(1);
    let n = panels.len().max(1) as u32;
    let height = panel_height.saturating_mul(n);
    let mut img = RgbImage::from_pixel(width, height, WHITE);
    let empty = Panel::default();
    let list: Vec<&Panel> = if panels.is_empty() {
        vec![&empty]
    } else {
        panels.iter().collect()
    };
    for (i, panel) in list.into_iter().enumerate() {
        let top = i as i64 * panel_height as i64;
        if top >= height as i64 {
            break;
        }
        draw_panel(&mut img, panel, top, width as i64, panel_height as i64);
    }
    img
}

/// A clipping rectangle `[x0, x1) x [y0, y1)` in image pixels.
#[derive(Debug, Clone, Copy)]
struct Rect {
    x0: i64,
    y0: i64,
    x1: i64,
    y1: i64,
}

impl Rect {
    fn contains(&self, x: i64, y: i64) -> bool {
        x >= self.x0 && x < self.x1 && y >= self.y0 && y < self.y1
    }
}

/// Sets `(x, y)` when it is inside `clip` and the image.
fn put(img: &mut RgbImage, clip: Rect, x: i64, y: i64, c: Rgb<u8>) {
    if clip.contains(x, y) && x < img.width() as i64 && y < img.height() as i64 && x >= 0 && y >= 0
    {
        img.put_pixel(x as u32, y as u32, c);
    }
}

/// Fills `[x0, x1) x [y0, y1)` (clipped).
fn fill(img: &mut RgbImage, clip: Rect, r: Rect, c: Rgb<u8>) {
    for y in r.y0.max(clip.y0)..r.y1.min(clip.y1) {
        for x in r.x0.max(clip.x0)..r.x1.min(clip.x1) {
            put(img, clip, x, y, c);
        }
    }
}

/// One-pixel outline of `r` (clipped).
fn outline(img: &mut RgbImage, clip: Rect, r: Rect, c: Rgb<u8>) {
    for x in r.x0..r.x1 {
        put(img, clip, x, r.y0, c);
        put(img, clip, x, r.y1 - 1, c);
    }
    for y in r.y0..r.y1 {
        put(img, clip, r.x0, y, c);
        put(img, clip, r.x1 - 1, y, c);
    }
}

/// A line from `a` to `b`, `thick` x `thick` pixels wide (Bresenham, clipped).
fn line(img: &mut RgbImage, clip: Rect, a: (i64, i64), b: (i64, i64), thick: i64, c: Rgb<u8>) {
    let (mut x, mut y) = a;
    let dx = (b.0 - a.0).abs();
    let dy = -(b.1 - a.1).abs();
    let sx = if a.0 < b.0 { 1 } else { -1 };
    let sy = if a.1 < b.1 { 1 } else { -1 };
    let mut err = dx + dy;
    let lo = -(thick - 1) / 2;
    loop {
        for oy in lo..lo + thick {
            for ox in lo..lo + thick {
                put(img, clip, x + ox, y + oy, c);
            }
        }
        if x == b.0 && y == b.1 {
            break;
        }
        let e2 = 2 * err;
        if e2 >= dy {
            err += dy;
            x += sx;
        }
        if e2 <= dx {
            err += dx;
            y += sy;
        }
    }
}

/// A linear or log10 axis over a data range.
#[derive(Debug, Clone, Copy)]
struct Axis {
    /// Range in transformed units (log10 of the value on a log axis).
    lo: f64,
    hi: f64,
    log: bool,
}

impl Axis {
    /// The transformed coordinate of a value (`None` when it cannot be drawn).
    fn t(&self, v: f64) -> Option<f64> {
        if !v.is_finite() {
            None
        } else if self.log {
            (v > 0.0).then(|| v.log10())
        } else {
            Some(v)
        }
    }

    /// Position in `[0, 1]` along the axis of transformed coordinate `t`.
    fn frac(&self, t: f64) -> f64 {
        (t - self.lo) / (self.hi - self.lo)
    }

    /// An axis covering transformed values `ts`, padded by `pad` of the span on each side.
    fn fit(ts: impl Iterator<Item = f64>, log: bool, pad: f64) -> Self {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for t in ts {
            lo = lo.min(t);
            hi = hi.max(t);
        }
        if !(lo.is_finite() && hi.is_finite()) {
            return Self {
                lo: 0.0,
                hi: 1.0,
                log,
            };
        }
        let span = hi - lo;
        if span <= 1e-12 * lo.abs().max(hi.abs()).max(1e-300) {
            let half = if log { 0.5 } else { (lo.abs() * 0.05).max(0.5) };
            return Self {
                lo: lo - half,
                hi: hi + half,
                log,
            };
        }
        Self {
            lo: lo - pad * span,
            hi: hi + pad * span,
            log,
        }
    }

    /// Tick positions (transformed) and their labels.
    fn ticks(&self) -> Vec<(f64, String)> {
        if self.log {
            let log_ticks = log_ticks(self.lo, self.hi);
            if log_ticks.len() >= 2 {
                return log_ticks;
            }
            // Less than a factor of two: linear ticks in value space.
            let (a, b) = (10f64.powf(self.lo), 10f64.powf(self.hi));
            return linear_ticks(a, b)
                .into_iter()
                .filter(|(v, _)| *v > 0.0)
                .map(|(v, s)| (v.log10(), s))
                .collect();
        }
        linear_ticks(self.lo, self.hi)
    }
}

/// A 1-2-5 step giving about five intervals over `span`.
fn nice_step(span: f64) -> f64 {
    let raw = span / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let m = if norm < 1.5 {
        1.0
    } else if norm < 3.0 {
        2.0
    } else if norm < 7.0 {
        5.0
    } else {
        10.0
    };
    m * mag
}

/// Multiples of a nice step inside `[lo, hi]`, labelled.
fn linear_ticks(lo: f64, hi: f64) -> Vec<(f64, String)> {
    let span = hi - lo;
    if !(span.is_finite() && span > 0.0) {
        return Vec::new();
    }
    let step = nice_step(span);
    if !(step.is_finite() && step > 0.0) {
        return Vec::new();
    }
    let first = (lo / step).ceil();
    let last = (hi / step).floor();
    if !(first.is_finite() && last.is_finite()) || last - first > 50.0 {
        return Vec::new();
    }
    let decimals = (-step.log10().floor()).clamp(0.0, 12.0) as usize;
    let big = lo.abs().max(hi.abs()) >= 1e6;
    let mut k = first;
    let mut out = Vec::new();
    while k <= last {
        let v = k * step;
        out.push((v, format_linear(v, decimals, big)));
        k += 1.0;
    }
    out
}

/// A linear tick label.
fn format_linear(v: f64, decimals: usize, big: bool) -> String {
    if v == 0.0 {
        return "0".into();
    }
    if big {
        return format_sci(v);
    }
    let s = format!("{v:.decimals$}");
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else {
        s
    }
}

/// `v` as mantissa and exponent, e.g. `2.5e7`.
fn format_sci(v: f64) -> String {
    let exp = v.abs().log10().floor() as i32;
    let mant = v / 10f64.powi(exp);
    let m = format!("{mant:.2}");
    let m = m.trim_end_matches('0').trim_end_matches('.');
    format!("{m}e{exp}")
}

/// Ticks at 1, 2 and 5 times powers of ten inside `[lo, hi]` (log10 units), thinned to at
/// most about eight.
fn log_ticks(lo: f64, hi: f64) -> Vec<(f64, String)> {
    if !(lo.is_finite() && hi.is_finite() && hi > lo) || hi - lo > 600.0 {
        return Vec::new();
    }
    let k0 = lo.floor() as i64;
    let k1 = hi.ceil() as i64;
    let collect = |mults: &[f64], stride: i64| -> Vec<(f64, String)> {
        let mut out = Vec::new();
        for k in k0..=k1 {
            if mults.len() == 1 && k.rem_euclid(stride) != 0 {
                continue;
            }
            for &m in mults {
                let t = m.log10() + k as f64;
                if t >= lo - 1e-9 && t <= hi + 1e-9 {
                    out.push((t, format_log(m, k)));
                }
            }
        }
        out
    };
    let all = collect(&[1.0, 2.0, 5.0], 1);
    if all.len() <= 8 {
        return all;
    }
    let decades = collect(&[1.0], 1);
    if decades.len() <= 8 {
        return decades;
    }
    let stride = (decades.len() as i64 + 7) / 8;
    collect(&[1.0], stride.max(1))
}

/// The label of `m * 10^k` on a log axis.
fn format_log(m: f64, k: i64) -> String {
    if (-4..=5).contains(&k) {
        let v = m * 10f64.powi(k as i32);
        let decimals = (-k).max(0) as usize;
        format!("{v:.decimals$}")
    } else {
        format!("{m}e{k}")
    }
}

/// Draws one panel whose top edge is at image row `top`.
fn draw_panel(img: &mut RgbImage, panel: &Panel, top: i64, width: i64, height: i64) {
    let clip = Rect {
        x0: 0,
        y0: top,
        x1: width,
        y1: top + height,
    };
    let s: u32 = if width >= 480 && height >= 180 { 2 } else { 1 };
    let th = text_height(s) as i64;
    let pad = 4 * s as i64;

    // Title.
    let tw = text_width(&panel.title, s) as i64;
    draw_text(img, (width - tw) / 2, top + pad, &panel.title, s, BLACK);

    // Drawable points per series, in transformed coordinates.
    let x_axis_probe = Axis {
        lo: 0.0,
        hi: 1.0,
        log: false,
    };
    let y_axis_probe = Axis {
        lo: 0.0,
        hi: 1.0,
        log: panel.log_y,
    };
    let pts: Vec<Vec<(f64, f64)>> = panel
        .series
        .iter()
        .map(|s| {
            s.points
                .iter()
                .filter_map(|&(x, y)| Some((x_axis_probe.t(x)?, y_axis_probe.t(y)?)))
                .collect()
        })
        .collect();
    let any = pts.iter().any(|p| !p.is_empty());
    let xa = Axis::fit(pts.iter().flatten().map(|p| p.0), false, 0.02);
    let ya = Axis::fit(pts.iter().flatten().map(|p| p.1), panel.log_y, 0.05);
    let x_ticks = xa.ticks();
    let y_ticks = ya.ticks();

    // Layout.
    let ylabel_w = if panel.y_label.is_empty() {
        0
    } else {
        th + 2 * pad
    };
    let tick_w = y_ticks
        .iter()
        .map(|(_, l)| text_width(l, s) as i64)
        .max()
        .unwrap_or(0);
    let area = Rect {
        x0: ylabel_w + tick_w + 2 * pad,
        y0: top + th + 2 * pad + pad,
        x1: width - 4 * pad,
        y1: top + height - (th + 3 * pad),
    };
    if area.x1 - area.x0 < 8 || area.y1 - area.y0 < 8 {
        return; // too small for a plot: title only
    }
    let (pw, ph) = (
        (area.x1 - area.x0 - 1) as f64,
        (area.y1 - area.y0 - 1) as f64,
    );
    let px = |t: f64| area.x0 + (xa.frac(t) * pw).round() as i64;
    let py = |t: f64| area.y1 - 1 - (ya.frac(t) * ph).round() as i64;

    // Grid lines and tick labels.
    let mut last_label_right = i64::MIN;
    for (t, label) in &x_ticks {
        let x = px(*t);
        if x < area.x0 || x >= area.x1 {
            continue;
        }
        line(img, area, (x, area.y0), (x, area.y1 - 1), 1, GRID);
        line(img, clip, (x, area.y1), (x, area.y1 + pad - 1), 1, FRAME);
        let lw = text_width(label, s) as i64;
        let lx = (x - lw / 2).clamp(0, (width - lw).max(0));
        if lx > last_label_right + 2 * pad {
            draw_text(img, lx, area.y1 + pad + s as i64 * 2, label, s, BLACK);
            last_label_right = lx + lw;
        }
    }
    let mut last_label_top = i64::MAX;
    for (t, label) in &y_ticks {
        let y = py(*t);
        if y < area.y0 || y >= area.y1 {
            continue;
        }
        line(img, area, (area.x0, y), (area.x1 - 1, y), 1, GRID);
        line(img, clip, (area.x0 - pad, y), (area.x0 - 1, y), 1, FRAME);
        let lw = text_width(label, s) as i64;
        let ly = y - th / 2;
        if ly + th + pad / 2 < last_label_top {
            draw_text(img, area.x0 - pad - s as i64 * 2 - lw, ly, label, s, BLACK);
            last_label_top = ly;
        }
    }
    outline(
        img,
        clip,
        Rect {
            x0: area.x0 - 1,
            y0: area.y0 - 1,
            x1: area.x1 + 1,
            y1: area.y1 + 1,
        },
        FRAME,
    );

    // Y label, vertical, centred on the plot area.
    if !panel.y_label.is_empty() {
        let lh = text_width(&panel.y_label, s) as i64;
        let ly = (area.y0 + area.y1 - lh) / 2;
        draw_text_vertical(img, pad, ly.max(top), &panel.y_label, s, BLACK);
    }

    // Series.
    let thick = if s >= 2 { 2 } else { 1 };
    for (i, series_pts) in pts.iter().enumerate() {
        let c = Rgb(PALETTE[i % PALETTE.len()]);
        let screen: Vec<(i64, i64)> = series_pts.iter().map(|&(x, y)| (px(x), py(y))).collect();
        for w in screen.windows(2) {
            line(img, area, w[0], w[1], thick, c);
        }
        if screen.len() <= MARKER_MAX_POINTS {
            let m = thick + 1;
            for &(x, y) in &screen {
                fill(
                    img,
                    area,
                    Rect {
                        x0: x - m,
                        y0: y - m,
                        x1: x + m + 1,
                        y1: y + m + 1,
                    },
                    c,
                );
            }
        }
    }

    if !any {
        let note = "no data";
        let nw = text_width(note, s) as i64;
        draw_text(
            img,
            (area.x0 + area.x1 - nw) / 2,
            (area.y0 + area.y1 - th) / 2,
            note,
            s,
            NOTE,
        );
    }

    // Legend.
    if panel.series.is_empty() {
        return;
    }
    let row_h = th + pad + 2;
    let swatch = 6 * s as i64 + 8;
    let name_w = panel
        .series
        .iter()
        .map(|s_| text_width(&s_.name, s) as i64)
        .max()
        .unwrap_or(0);
    let lw = pad + swatch + pad + name_w + pad;
    let lh = pad + row_h * panel.series.len() as i64;
    if lw + 2 * pad > area.x1 - area.x0 || lh + 2 * pad > area.y1 - area.y0 {
        return; // no room for a legend
    }
    let margin = pad;
    let corners = [
        (area.x1 - margin - lw, area.y0 + margin),
        (area.x0 + margin, area.y0 + margin),
        (area.x1 - margin - lw, area.y1 - margin - lh),
        (area.x0 + margin, area.y1 - margin - lh),
    ];
    let covered = |(cx, cy): (i64, i64)| -> usize {
        pts.iter()
            .flatten()
            .filter(|&&(x, y)| {
                let (sx, sy) = (px(x), py(y));
                sx >= cx && sx < cx + lw && sy >= cy && sy < cy + lh
            })
            .count()
    };
    let (lx, ly) = corners
        .iter()
        .copied()
        .min_by_key(|&c| covered(c))
        .unwrap_or(corners[0]);
    let legend = Rect {
        x0: lx,
        y0: ly,
        x1: lx + lw,
        y1: ly + lh,
    };
    fill(img, area, legend, WHITE);
    outline(img, area, legend, LEGEND_BORDER);
    for (i, series) in panel.series.iter().enumerate() {
        let c = Rgb(PALETTE[i % PALETTE.len()]);
        let row_y = ly + pad + i as i64 * row_h;
        let mid = row_y + th / 2;
        line(
            img,
            area,
            (lx + pad, mid),
            (lx + pad + swatch - 1, mid),
            thick + 1,
            c,
        );
        draw_text(img, lx + pad + swatch + pad, row_y, &series.name, s, BLACK);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_tick_labels() {
        let t = linear_ticks(0.0, 1000.0);
        let labels: Vec<&str> = t.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(labels, ["0", "200", "400", "600", "800", "1000"]);
        let t = linear_ticks(20.1, 21.0);
        assert_eq!(t[0].1, "20.2");
        let t = linear_ticks(-0.5, 0.5);
        assert!(t.iter().any(|(_, l)| l == "0"));
        assert!(linear_ticks(1.0, 1.0).is_empty());
        assert!(linear_ticks(f64::NAN, 1.0).is_empty());
    }

    #[test]
    fn log_tick_labels() {
        // 0.01 .. 1
        let t = log_ticks(-2.0, 0.0);
        let labels: Vec<&str> = t.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(labels, ["0.01", "0.02", "0.05", "0.1", "0.2", "0.5", "1"]);
        // many decades: thinned
        let t = log_ticks(-20.0, 20.0);
        assert!(t.len() <= 9 && t.len() >= 4, "{t:?}");
        assert!(t.iter().all(|(_, l)| l.contains('e') || l.len() < 8));
        // narrow range falls back to linear ticks
        let a = Axis {
            lo: 0.30f64.log10(),
            hi: 0.35f64.log10(),
            log: true,
        };
        assert!(a.ticks().len() >= 2);
    }

    #[test]
    fn tiny_and_degenerate_sizes_do_not_panic() {
        let p = Panel {
            title: "t".into(),
            y_label: "y".into(),
            log_y: true,
            series: vec![Series {
                name: "a".into(),
                points: vec![
                    (0.0, -1.0),
                    (f64::NAN, 1.0),
                    (1.0, f64::INFINITY),
                    (2.0, 1e-300),
                ],
            }],
        };
        for (w, h) in [(0, 0), (1, 1), (10, 10), (50, 30), (3000, 20)] {
            let img = render_panels(std::slice::from_ref(&p), w, h);
            assert_eq!(img.dimensions(), (w.max(1), h.max(1)));
        }
        let img = render_panels(&[], 100, 100);
        assert_eq!(img.dimensions(), (100, 100));
    }
}
