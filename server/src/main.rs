//! `grove`: the Grove server binary. See `grove --help`.

use clap::Parser;
use grove_server::cli::{Cli, Command};
use grove_server::config::{sample_toml, Config, LogFormat};

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Config => {
            print!("{}", sample_toml());
            Ok(())
        }
        Command::Serve(args) => {
            let config = Config::load(args.config.as_deref(), std::env::vars(), &args.knobs.values)?;
            init_logging(&config);
            let runtime =
                tokio::runtime::Builder::new_multi_thread().enable_all().thread_name("grove-io").build()?;
            runtime.block_on(grove_server::app::run(config))
        }
    }
}

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&config.log.level));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match config.log.format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}
