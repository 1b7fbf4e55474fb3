//! `gateless job ...`: quote, submit, show, result, watch, verify.

use std::time::Duration;

use anyhow::{bail, Context, Result};
use gateless_rpc::types;

use crate::{
	amount,
	calls::job_inputs,
	chain::{runtime, Chain, Progress},
	cli::{JobCommand, SubmitArgs},
	commands::place_tensors,
	input, output,
	render::{job_progress, status_text, Output},
	replay,
};

pub(crate) async fn job_command(
	chain: &Chain,
	progress: &Progress,
	out: &Output,
	command: JobCommand,
) -> Result<()> {
	match command {
		JobCommand::Quote { model, replicas, shapes } => {
			let shapes = shapes
				.iter()
				.map(|shape| {
					shape
						.split(',')
						.map(|size| {
							size.trim().parse::<u32>().with_context(|| {
								format!("--shape {shape}: `{size}` is not a dimension")
							})
						})
						.collect::<Result<Vec<u32>>>()
				})
				.collect::<Result<Vec<_>>>()?;
			let at_examples = shapes.is_empty();
			let quote = chain.quote(model, replicas, (!at_examples).then_some(shapes)).await?;
			out.quote(&quote, at_examples)
		},
		JobCommand::Submit(SubmitArgs {
			model,
			inputs,
			replicas,
			max_fee,
			wait,
			output,
			timeout,
			pixel_scale,
			invert,
			keys,
		}) => {
			let info = chain.model(model).await?;
			let image = input::ImageOptions { scale: pixel_scale, invert };
			let tensors = input::read_all(&inputs, &info.signature.inputs, image)?;
			// The model and the inputs first: their mistakes are the likelier ones.
			let signer = keys.keypair()?;
			let shapes = tensors.iter().map(|tensor| tensor.shape.clone()).collect();
			let quote = chain.quote(model, replicas, Some(shapes)).await?;
			let max_fee = match max_fee {
				Some(max_fee) => amount::parse(&max_fee, &chain.token)?,
				None => quote.total.parse().context("the node sent a malformed quote")?,
			};
			let described: Vec<String> = info
				.signature
				.inputs
				.iter()
				.zip(&tensors)
				.map(|(spec, tensor)| format!("{} {} {:?}", spec.name, tensor.dtype, tensor.shape))
				.collect();
			progress.say(&format!(
				"submitting {} to model {model}; fee {}",
				described.join(", "),
				amount::show_text(&quote.total, &chain.token)
			));
			let placed = place_tensors(chain, progress, &tensors, |position| {
				format!("input {}", info.signature.inputs[position].name)
			})
			.await?;
			let call = runtime::transactions().inference_jobs().submit_job(
				model,
				job_inputs(&tensors, &placed)?,
				replicas,
				max_fee,
			);
			let submitted = chain
				.submit_then_event::<_, runtime::inference_jobs::events::JobSubmitted>(
					&call, &signer, progress,
				)
				.await?;
			let id = submitted.job;
			if !wait {
				return out.job(&chain.job(id).await?);
			}
			progress.say(&format!("job {id} submitted; waiting for the verified result"));
			let job = chain
				.follow_job(id, Duration::from_secs(timeout), progress, |job| {
					let line = job_progress(job);
					progress.say(&line);
					line
				})
				.await?;
			finish(chain, progress, out, &job, output.as_deref()).await
		},
		JobCommand::Show { id } => out.job(&chain.job(id).await?),
		JobCommand::Result { id, output } => match chain.result(id).await? {
			Some(result) => {
				save_outputs(chain, progress, &result, output.as_deref()).await?;
				out.result(&result)
			},
			None => {
				let job = chain.job(id).await?;
				bail!("job {id} has no verified result: it is {}", status_text(&job))
			},
		},
		JobCommand::Watch { id, timeout } => {
			let quiet = Progress::new(true);
			let job = chain
				.follow_job(id, Duration::from_secs(timeout), &quiet, |job| {
					let line = job_progress(job);
					if !out.json {
						println!("{line}");
					}
					line
				})
				.await?;
			finish(chain, &quiet, out, &job, None).await
		},
		JobCommand::Verify { id, model_file } => {
			progress.say(&format!("replaying job {id} with this machine's tract"));
			let replay = replay::verify(chain, id, model_file.as_deref(), progress).await?;
			out.replay(id, &replay)?;
			if !replay.agrees {
				std::process::exit(2);
			}
			Ok(())
		},
	}
}

/// Saves every output of `result` to `path`, if one is given (an agreed error has none), with
/// their bytes from `gateless_output`: those kept off chain fetched by the node from the executors.
pub(crate) async fn save_outputs(
	chain: &Chain,
	progress: &Progress,
	result: &types::JobResult,
	path: Option<&std::path::Path>,
) -> Result<()> {
	let Some(path) = path else { return Ok(()) };
	match &result.output {
		types::Output::Tensors { .. } | types::Output::Content { .. } => {
			let tensors = chain
				.outputs(result.job, progress)
				.await?
				.with_context(|| format!("job {} has no result on this node", result.job))?;
			output::save(path, &tensors)?;
			progress.say(&format!("saved the outputs to {}", path.display()));
			Ok(())
		},
		types::Output::Error { error } => {
			bail!(
				"job {} has no outputs to save: its verified result is the error {error}",
				result.job
			)
		},
	}
}

/// Prints the result of a job that ended (saving its outputs to `output`, if given), or fails
/// with how it ended.
pub(crate) async fn finish(
	chain: &Chain,
	progress: &Progress,
	out: &Output,
	job: &types::Job,
	output: Option<&std::path::Path>,
) -> Result<()> {
	match chain.result(job.id).await? {
		Some(result) => {
			save_outputs(chain, progress, &result, output).await?;
			out.result(&result)
		},
		None => bail!("job {} ended without a result: {}", job.id, status_text(job)),
	}
}
