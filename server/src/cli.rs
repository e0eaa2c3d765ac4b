//! Command line: `grove serve` and `grove config`.
//!
//! The per-knob flags of `grove serve` are generated from [`crate::config::KNOBS`], so their
//! help text is the knob's doc comment and cannot drift from the config structs.

use std::path::PathBuf;

use clap::{Arg, ArgMatches, Args, FromArgMatches, Parser, Subcommand};

use crate::config::{default_of, Knob, KNOBS};

/// Grove: a filtered approximate-nearest-neighbour vector database.
///
/// Settings are layered: built-in defaults, then a TOML file (--config), then GROVE__SECTION__KEY
/// environment variables, then command-line flags. `grove config` prints every setting with its
/// default and documentation.
#[derive(Debug, Parser)]
#[command(name = "grove", version, about, long_about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve REST (Qdrant-shaped, default 127.0.0.1:6333) and gRPC (grove.v1, default :6334)
    /// over the data directory (default ./grove-data).
    Serve(ServeArgs),
    /// Print the configuration file with every setting at its default, documented.
    Config,
}

/// Arguments of `grove serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// TOML configuration file (see `grove config` for every key).
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Per-setting overrides.
    #[command(flatten)]
    pub knobs: KnobFlags,
}

/// One `--section-key VALUE` flag per knob; values stay raw strings until the config layering
/// parses them against the knob's type.
#[derive(Debug, Clone, Default)]
pub struct KnobFlags {
    /// The flags given, in knob order.
    pub values: Vec<(Knob, String)>,
}

impl FromArgMatches for KnobFlags {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let mut values = Vec::new();
        for knob in KNOBS {
            if let Some(v) = matches.get_one::<String>(&knob.flag()) {
                values.push((*knob, v.clone()));
            }
        }
        Ok(KnobFlags { values })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl Args for KnobFlags {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        let mut cmd = cmd;
        for knob in KNOBS {
            let default = default_of(knob).unwrap_or_else(|| "unset".to_owned());
            let help = format!("{} [default: {default}] [env: {}]", knob.doc_text(), knob.env());
            let arg = Arg::new(knob.flag())
                .long(knob.flag())
                .value_name(knob.key.to_uppercase())
                .help(help)
                .help_heading(section_heading(knob.section));
            cmd = cmd.arg(arg);
        }
        cmd
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

fn section_heading(section: &str) -> &'static str {
    match section {
        "service" => "Service (listeners, timeouts, threads)",
        "storage" => "Storage",
        "security" => "Security (API keys, TLS)",
        "limits" => "Limits (per request)",
        "log" => "Logging",
        _ => "Other settings",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent_and_every_knob_has_a_flag() {
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from([
            "grove",
            "serve",
            "--service-http-port",
            "7000",
            "--storage-data-dir",
            "/d",
        ])
        .expect("parses");
        let Command::Serve(args) = cli.command else { panic!("serve expected") };
        let got: Vec<_> = args.knobs.values.iter().map(|(k, v)| (k.flag(), v.clone())).collect();
        assert_eq!(
            got,
            vec![
                ("service-http-port".to_owned(), "7000".to_owned()),
                ("storage-data-dir".to_owned(), "/d".to_owned())
            ]
        );
        let help = Cli::command().find_subcommand_mut("serve").expect("serve").render_long_help().to_string();
        for knob in KNOBS {
            assert!(help.contains(&format!("--{}", knob.flag())), "missing flag for {}", knob.key);
            assert!(help.contains(&knob.env()), "missing env for {}", knob.key);
        }
    }

    #[test]
    fn serve_without_arguments_parses() {
        let cli = Cli::try_parse_from(["grove", "serve"]).expect("parses");
        let Command::Serve(args) = cli.command else { panic!("serve expected") };
        assert!(args.config.is_none() && args.knobs.values.is_empty());
    }
}
