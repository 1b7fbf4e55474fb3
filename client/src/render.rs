//! What `gateless` prints: text for people, or the `gateless_*` JSON shapes with `--json`.

use anyhow::Result;
use gateless_rpc::types;

use crate::{amount, chain, input, replay};

/// Human or JSON output.
pub(crate) struct Output {
	pub(crate) json: bool,
	pub(crate) token: chain::Token,
}

impl Output {
	pub(crate) fn print_json<T: serde::Serialize>(&self, value: &T) -> Result<()> {
		println!("{}", serde_json::to_string_pretty(value)?);
		Ok(())
	}

	pub(crate) fn amount(&self, units: &str) -> String {
		amount::show_text(units, &self.token)
	}

	pub(crate) fn model(&self, model: &types::Model) -> Result<()> {
		if self.json {
			return self.print_json(model);
		}
		let status = match &model.rejection {
			Some(reason) => format!("{:?}: {}", model.status, rejection_text(reason)),
			None => format!("{:?}", model.status),
		};
		println!(
			"model {}: {} {} — {}",
			model.id,
			model.name,
			model.version,
			status.to_lowercase()
		);
		println!("  owner        {}", model.owner);
		let location = match &model.location {
			types::Location::Inline => "inline".to_owned(),
			types::Location::Uris { uris } => uris.join(" "),
			types::Location::Peers { content, uris } if uris.is_empty() => {
				format!("provided by nodes as {content}")
			},
			types::Location::Peers { content, uris } => {
				format!("provided by nodes as {content}, and at {}", uris.join(" "))
			},
		};
		println!("  file         {} bytes, {} ({location})", model.size, model.hash);
		for spec in &model.signature.inputs {
			println!("  input        {}: {} {}", spec.name, spec.dtype, input::shape_text(spec));
		}
		for spec in &model.signature.outputs {
			println!("  output       {}: {} {}", spec.name, spec.dtype, input::shape_text(spec));
		}
		match model.determinism {
			types::Determinism::Exact => println!("  comparison   exact"),
			types::Determinism::Tolerance { abs, rel } => {
				println!("  comparison   within {abs} + {rel} x |value|")
			},
		}
		println!("  price        {}", self.amount(&model.price));
		println!(
			"  registered   block {}, deposit {}",
			model.registered_at,
			self.amount(&model.deposit)
		);
		if let Some(attestations) = &model.attestations {
			println!(
				"  attestations {} loads, {} fails, {} decide",
				attestations.loads, attestations.fails, attestations.threshold
			);
		}
		if !model.description.is_empty() {
			println!("  description  {}", model.description);
		}
		if let Some(card) = &model.card {
			for (label, text) in [
				("task", &card.task),
				("license", &card.license),
				("inputs are", &card.inputs),
				("outputs are", &card.outputs),
			] {
				if !text.is_empty() {
					println!("  {label:<12} {text}");
				}
			}
			if let Some(labels) = &card.labels {
				println!("  labels       file with hash {labels}");
			}
		}
		if let Some(references) = &model.references {
			println!(
				"  references   {} vector(s), checked by {} validator(s)",
				references.count, references.checked_by
			);
		}
		if let Some(compute) = &model.compute {
			println!("  compute      {}", compute_text(compute.fixed, compute.per_element));
		}
		if let Some(stats) = &model.stats {
			let agreement = stats.agreement_rate.map_or_else(
				|| "no tally yet".to_string(),
				|rate| format!("{:.1} %", rate * 100.0),
			);
			println!(
				"  jobs         {} submitted: {} verified ({} agreed errors), {} failed, {} \
				 expired, {} cancelled",
				stats.submitted,
				stats.finalized,
				stats.agreed_errors,
				stats.failed,
				stats.expired,
				stats.cancelled
			);
			println!(
				"  agreement    {agreement} of {} seats; revenue {}{}",
				stats.seats,
				self.amount(&stats.revenue),
				stats
					.last_used
					.map_or_else(String::new, |block| format!("; last used in block {block}"))
			);
		}
		Ok(())
	}

	pub(crate) fn models(&self, page: &types::ModelPage) -> Result<()> {
		if self.json {
			return self.print_json(page);
		}
		if page.models.is_empty() {
			println!("no models");
		}
		for model in &page.models {
			println!(
				"{:>5}  {:<24} {:<10} {:<10} {}",
				model.id,
				model.name,
				model.version,
				format!("{:?}", model.status).to_lowercase(),
				self.amount(&model.price)
			);
		}
		if let Some(next) = page.next {
			println!("more: --from {next}");
		}
		Ok(())
	}

	pub(crate) fn quote(&self, quote: &types::Quote, at_examples: bool) -> Result<()> {
		if self.json {
			return self.print_json(quote);
		}
		println!(
			"{} = model {} + {} x {} per executor + data {}{}",
			self.amount(&quote.total),
			self.amount(&quote.model_price),
			quote.replicas,
			self.amount(&quote.executor_fee),
			self.amount(&quote.data_fee),
			if at_examples { " (at the model's example shapes)" } else { "" }
		);
		match quote.operations {
			Some(operations) => println!(
				"the job's compute: {operations} operations by the model's attested estimate; \
				 the executor fee follows it above the runtime's floor"
			),
			None => println!("the model has no compute estimate: the executor fee is the floor"),
		}
		Ok(())
	}

	pub(crate) fn job(&self, job: &types::Job) -> Result<()> {
		if self.json {
			return self.print_json(job);
		}
		println!("job {}: {}", job.id, status_text(job));
		println!("  model        {} ({})", job.model, job.model_hash);
		println!("  submitter    {}", job.submitter);
		println!(
			"  fee          {} for {} executor(s), of which data {}",
			self.amount(&job.fee.total),
			job.fee.replicas,
			self.amount(&job.fee.data_fee)
		);
		println!("  submitted    block {}, expires at {}", job.submitted_at, job.expires_at);
		println!("  executors    {}", job.executors.join(" "));
		if let Some(round) = &job.round {
			println!(
				"  round {}      commits until block {}, reveals until {}",
				round.round, round.commit_until, round.reveal_until
			);
			println!("  committed    {}", round.committed.join(" "));
			for reveal in &round.revealed {
				println!("  revealed     {} {}", reveal.executor, reveal.digest);
			}
			for abstention in &round.abstained {
				println!("  abstained    {} ({})", abstention.executor, abstention.cause);
			}
		}
		Ok(())
	}

	pub(crate) fn result(&self, result: &types::JobResult) -> Result<()> {
		if self.json {
			return self.print_json(result);
		}
		println!("job {}: verified in block {}", result.job, result.finalized_at);
		match &result.output {
			types::Output::Tensors { tensors } | types::Output::Content { tensors, .. } => {
				for tensor in tensors {
					print_tensor(tensor);
				}
			},
			types::Output::Error { error } => println!("  agreed error {error}"),
		}
		println!("  digest       {}", result.digest);
		println!("  agreeing     {}", result.agreeing.join(" "));
		println!(
			"  paid         {} each, owner {}, refunded {}",
			self.amount(&result.paid_each),
			self.amount(&result.owner_paid),
			self.amount(&result.refunded)
		);
		Ok(())
	}

	pub(crate) fn replay(&self, job: u64, replay: &replay::Replay) -> Result<()> {
		if self.json {
			return self.print_json(&serde_json::json!({
				"job": job,
				"agrees": replay.agrees,
				"modelSource": replay.model_source,
				"modelHashMatches": replay.model_hash_matches,
				"findings": replay.findings,
			}));
		}
		let verdict = if replay.agrees {
			"agrees with the verified result"
		} else {
			"DOES NOT agree with the verified result"
		};
		println!("job {job}: the local run {verdict}");
		let hash = if replay.model_hash_matches {
			"the bytes the job ran"
		} else {
			"NOT the bytes the job ran (another hash)"
		};
		println!("  model        from {}: {hash}", replay.model_source);
		for finding in &replay.findings {
			println!("  {finding}");
		}
		Ok(())
	}

	pub(crate) fn validators(&self, validators: &[types::Validator]) -> Result<()> {
		if self.json {
			return self.print_json(&validators);
		}
		for validator in validators {
			let role = match (validator.active, validator.candidate) {
				(true, _) => "active",
				(false, true) => "candidate",
				(false, false) => "chilled",
			};
			let counters = &validator.counters;
			let agreement = validator
				.agreement_rate
				.map_or_else(|| "-".to_string(), |rate| format!("{:.1} %", rate * 100.0));
			println!(
				"{} {role:<9} bond {}  assigned {} agreed {} dissented {} missed {} abstained {} \
				 agreement {agreement} slashed {}",
				validator.account,
				self.amount(&validator.bond),
				counters.assigned,
				counters.agreed,
				counters.dissented,
				counters.missed,
				counters.abstained,
				self.amount(&counters.slashed)
			);
		}
		Ok(())
	}
}

/// Prints one output tensor: its first rows, and each row's argmax for a batch of scores.
pub(crate) fn print_tensor(tensor: &types::Tensor) {
	let types::Tensor { name, dtype, shape, values, content } = tensor;
	println!("  output       {} {dtype} {shape:?}", name.as_deref().unwrap_or("(unnamed)"));
	if let Some(content) = content {
		println!("               off chain: {} bytes, content {}", content.len, content.hash);
		return;
	}
	let row = shape.last().copied().unwrap_or(1).max(1) as usize;
	for chunk in values.chunks(row).take(16) {
		let text: Vec<String> = chunk.iter().map(ToString::to_string).collect();
		println!("               [{}]", text.join(", "));
	}
	if values.len() > 16 * row {
		println!("               … {} values in all", values.len());
	}
	if shape.len() == 2 && row > 1 && dtype.starts_with('f') {
		let classes: Vec<usize> = values
			.chunks(row)
			.map(|chunk| {
				let numbers = chunk.iter().map(|v| v.as_f64().unwrap_or(f64::MIN));
				numbers
					.enumerate()
					.fold((0, f64::MIN), |best, (i, v)| if v > best.1 { (i, v) } else { best })
					.0
			})
			.collect();
		println!("  argmax/row   {classes:?}");
	}
}

pub(crate) fn status_text(job: &types::Job) -> String {
	match (&job.status, &job.failure) {
		(types::JobStatus::Failed, Some(reason)) => format!("failed ({reason}), fee refunded"),
		(types::JobStatus::Expired, _) => "expired, fee refunded".into(),
		(types::JobStatus::Cancelled, _) => "cancelled, fee refunded".into(),
		(status, _) => format!("{status:?}").to_lowercase(),
	}
}

pub(crate) fn job_progress(job: &types::Job) -> String {
	match &job.round {
		Some(round) => format!(
			"job {}: {}, round {}: {}/{} committed, {}/{} revealed, {} abstained",
			job.id,
			status_text(job),
			round.round,
			round.committed.len(),
			round.committee.len(),
			round.revealed.len(),
			round.committee.len(),
			round.abstained.len()
		),
		None => format!("job {}: {}", job.id, status_text(job)),
	}
}

/// A model's compute for the reader: its fixed operations and those per input element.
pub(crate) fn compute_text(fixed: u64, per_element: f64) -> String {
	if per_element == 0.0 {
		format!("{fixed} operations")
	} else if fixed == 0 {
		format!("{per_element:.3} operations per input element")
	} else {
		format!("{fixed} operations + {per_element:.3} per input element")
	}
}

/// Why a model was rejected, in words, from the reason `gateless_model` gives.
pub(crate) fn rejection_text(reason: &str) -> &str {
	match reason {
		"admin" => "rejected by the registry's admin",
		"unavailable" => "validators could not get its bytes",
		"sizeMismatch" => "its bytes do not have the registered size",
		"hashMismatch" => "its bytes do not hash to the registered hash",
		"malformed" => "not an ONNX model tract can read",
		"unsupported" => "it uses operators or types the engine does not support",
		"signatureMismatch" => "its graph's inputs or outputs differ from the declared signature",
		"tooLarge" => "beyond the validators' limits (size, memory or time)",
		"referenceMismatch" => {
			"its outputs for a reference vector differ from the registered ones beyond its \
			 declared tolerance (a drifted conversion, a tolerance too tight, or a wrong reference)"
		},
		other => other,
	}
}
