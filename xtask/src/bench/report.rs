//! The bench report: figures with ratios, as markdown and JSON.

use serde::Serialize;

use super::Effort;

/// A target a figure is held to (from the README's performance section).
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    /// The target in words, e.g. "at most 25 ms".
    pub text: String,
    /// Whether the measured figure meets it.
    pub met: bool,
}

/// One measured figure.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    /// Section of the report.
    pub group: String,
    /// What was measured.
    pub name: String,
    /// Unit of `ours`, `baseline`, `p10`, `p90`.
    pub unit: String,
    /// Median of ours.
    pub ours: f64,
    /// What the baseline is.
    pub baseline_name: String,
    /// Median of the baseline, measured in the same run.
    pub baseline: f64,
    /// `ours / baseline`.
    pub ratio: f64,
    /// 10th percentile of ours.
    pub p10: f64,
    /// 90th percentile of ours.
    pub p90: f64,
    /// The target, when there is one.
    pub target: Option<Target>,
}

impl Figure {
    /// A figure from samples of ours and of the baseline.
    pub fn from_samples(group: &str, name: &str, unit: &str, ours: &[f64], baseline_name: &str, baseline: &[f64]) -> Self {
        let median = percentile(ours, 0.5);
        let base = percentile(baseline, 0.5);
        Self {
            group: group.into(),
            name: name.into(),
            unit: unit.into(),
            ours: median,
            baseline_name: baseline_name.into(),
            baseline: base,
            ratio: if base > 0.0 { median / base } else { f64::NAN },
            p10: percentile(ours, 0.1),
            p90: percentile(ours, 0.9),
            target: None,
        }
    }

    /// Attaches a target.
    pub fn with_target(mut self, text: &str, met: bool) -> Self {
        self.target = Some(Target { text: text.into(), met });
        self
    }
}

/// Linear-interpolated percentile of unsorted samples.
pub fn percentile(samples: &[f64], q: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let position = q * (sorted.len() - 1) as f64;
    let low = position.floor() as usize;
    let high = position.ceil() as usize;
    sorted[low] + (sorted[high] - sorted[low]) * (position - low as f64)
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Date (UTC) of the run.
    pub date: String,
    /// Machine description.
    pub machine: String,
    /// Quick or full.
    pub quick: bool,
    /// Figures in measurement order.
    pub figures: Vec<Figure>,
    /// Things skipped or worth knowing, one line each.
    pub notes: Vec<String>,
    /// Wall time of the whole bench.
    pub elapsed_seconds: f64,
}

impl Report {
    /// An empty report for this run.
    pub fn new(effort: Effort) -> Self {
        Self { date: today(), machine: machine(), quick: effort.quick, figures: Vec::new(), notes: Vec::new(), elapsed_seconds: 0.0 }
    }

    /// Renders the markdown table.
    pub fn to_markdown(&self) -> String {
        let mut out = format!(
            "# Benchmark report\n\n{} run on {} ({}); {:.0} s in all.\n\nEvery ratio is ours / baseline, both measured in this run; medians, spread is p10-p90 of ours.\n\n",
            if self.quick { "Quick" } else { "Full" },
            self.date,
            self.machine,
            self.elapsed_seconds
        );
        let mut group = "";
        for figure in &self.figures {
            if figure.group != group {
                group = &figure.group;
                out.push_str(&format!(
                    "\n## {group}\n\n| figure | ours | baseline | ratio | spread | target |\n|---|---|---|---|---|---|\n"
                ));
            }
            let target = match &figure.target {
                Some(t) => format!("{} ({})", t.text, if t.met { "met" } else { "**missed**" }),
                None => String::new(),
            };
            out.push_str(&format!(
                "| {} | {} {} | {} {} ({}) | {:.3} | {}-{} | {} |\n",
                figure.name,
                fmt(figure.ours),
                figure.unit,
                fmt(figure.baseline),
                figure.unit,
                figure.baseline_name,
                figure.ratio,
                fmt(figure.p10),
                fmt(figure.p90),
                target
            ));
        }
        if !self.notes.is_empty() {
            out.push_str("\n## Notes\n\n");
            for note in &self.notes {
                out.push_str(&format!("- {note}\n"));
            }
        }
        out
    }
}

fn fmt(value: f64) -> String {
    if value.abs() >= 100.0 { format!("{value:.0}") } else if value.abs() >= 1.0 { format!("{value:.2}") } else { format!("{value:.4}") }
}

fn today() -> String {
    std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn machine() -> String {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| text.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string()))
        .unwrap_or_else(|| "unknown cpu".into());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| text.lines().next().and_then(|l| l.split_whitespace().nth(1)).and_then(|kb| kb.parse::<u64>().ok()))
        .map(|kb| format!("{} GiB", kb / 1024 / 1024))
        .unwrap_or_default();
    format!("{cores} cores, {cpu}, {memory}")
}
