//! [`Progress`]: a terminal progress bar over optimisation steps.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// The bar layout: elapsed time, bar, step/total, the message (loss, images/s), ETA.
const TEMPLATE: &str =
    "[{elapsed_precise}] {wide_bar:.cyan/blue} {pos}/{len} steps | {msg} | ETA {eta_precise}";

/// An indicatif progress bar over optimisation steps showing step/total, loss, images/s and ETA; hidden (draws nothing) when `hidden` or when stderr is not a terminal.
///
/// The bar starts at `start_step` (a resumed run) and its ETA is estimated from the steps
/// taken in this process only. Cloning gives a handle to the same bar.
///
/// ```
/// use wno_trainer::report::Progress;
/// let p = Progress::new(100, 10, true); // hidden: draws nothing
/// p.update(11, 0.25, 512.0);
/// p.println("checkpoint saved"); // goes to stderr when hidden
/// p.finish();
/// ```
#[derive(Debug, Clone)]
pub struct Progress {
    bar: ProgressBar,
    hidden: bool,
}

impl Progress {
    /// A bar over `total_steps` steps positioned at `start_step`; hidden when `hidden` is
    /// true or stderr is not a terminal (a log file, CI).
    ///
    /// ```
    /// let p = wno_trainer::report::Progress::new(1000, 0, true);
    /// p.finish();
    /// ```
    pub fn new(total_steps: u64, start_step: u64, hidden: bool) -> Self {
        let hidden = hidden || !std::io::stderr().is_terminal();
        let target = if hidden {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let bar = ProgressBar::with_draw_target(Some(total_steps), target);
        // The template is a constant known to parse; fall back to the default bar regardless.
        let style = ProgressStyle::with_template(TEMPLATE)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_position(start_step.min(total_steps));
        bar.set_message("starting");
        // The steps before `start_step` were done by an earlier run: keep them out of the ETA.
        bar.reset_eta();
        Self { bar, hidden }
    }

    /// Moves the bar to `step` and shows `loss` and the throughput `images_per_s`.
    ///
    /// ```
    /// let p = wno_trainer::report::Progress::new(10, 0, true);
    /// p.update(3, 1.5e-4, 1200.0);
    /// ```
    pub fn update(&self, step: u64, loss: f64, images_per_s: f64) {
        self.bar.set_position(step);
        self.bar.set_message(format!(
            "loss {} | {} img/s",
            format_loss(loss),
            format_rate(images_per_s)
        ));
    }

    /// Prints a line above the bar (or to stderr when hidden).
    ///
    /// ```
    /// wno_trainer::report::Progress::new(10, 0, true).println("eval: free PSNR 21.3 dB");
    /// ```
    pub fn println(&self, msg: &str) {
        if self.hidden {
            eprintln!("{msg}");
        } else {
            self.bar.println(msg);
        }
    }

    /// Stops the bar, leaving its last state on screen.
    ///
    /// ```
    /// wno_trainer::report::Progress::new(10, 10, true).finish();
    /// ```
    pub fn finish(&self) {
        self.bar.finish();
    }
}

/// A loss value with four significant digits, scientific when small or large.
fn format_loss(loss: f64) -> String {
    if !loss.is_finite() {
        format!("{loss}")
    } else if loss != 0.0 && (loss.abs() < 1e-3 || loss.abs() >= 1e4) {
        format!("{loss:.3e}")
    } else {
        format!("{loss:.4}")
    }
}

/// A throughput with one decimal (none once it is large).
fn format_rate(rate: f64) -> String {
    if !rate.is_finite() {
        "-".to_string()
    } else if rate >= 100.0 {
        format!("{rate:.0}")
    } else {
        format!("{rate:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(format_loss(0.25), "0.2500");
        assert_eq!(format_loss(1.5e-4), "1.500e-4");
        assert_eq!(format_loss(0.0), "0.0000");
        assert_eq!(format_loss(f64::NAN), "NaN");
        assert_eq!(format_rate(1234.4), "1234");
        assert_eq!(format_rate(12.34), "12.3");
        assert_eq!(format_rate(f64::INFINITY), "-");
    }
}
