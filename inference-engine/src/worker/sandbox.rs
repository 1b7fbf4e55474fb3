//! What an inference worker does to itself before it reads its first model: limits that the
//! kernel enforces, so that a hostile model can cost the worker its life but nothing else.
//!
//! In order, each step best effort and reported by name (the node logs the list once):
//! - `die-with-node`: the kernel kills the worker when the node exits (`PR_SET_PDEATHSIG`);
//! - `oom-first`: the kernel's out-of-memory killer picks the worker before anything else
//!   (`oom_score_adj` 1000);
//! - `memory=MIB`: the worker's address space is capped (`RLIMIT_AS`), so an allocation bomb
//!   fails inside the worker; also no core dumps, few file descriptors;
//! - `no-new-privileges`;
//! - `landlock`: no file system access at all (the model's bytes come through the pipe), where
//!   the kernel has Landlock (5.13 and later, when enabled);
//! - `seccomp`: no sockets (so no network), no `execve`, no `ptrace`, where the kernel has
//!   seccomp filters (x86-64 and AArch64).
//!
//! The CPU time of each request is capped as it comes ([`limit_cpu_time`]); the node also kills a
//! worker that overruns its wall-clock deadline.

/// Puts every protection the kernel allows in place and names the ones that took.
pub fn enter(memory_bytes: u64) -> Vec<String> {
	let mut applied = Vec::new();
	let mut note = |name: String, ok: bool| {
		if ok {
			applied.push(name);
		} else {
			log::debug!(target: "gateless::worker", "protection {name} is not available here");
		}
	};
	// SAFETY (every `unsafe` below): plain system calls on this process, with arguments that are
	// constants or point to live, correctly laid out local values.
	note("die-with-node".into(), unsafe {
		libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0, 0, 0) == 0
	});
	note("oom-first".into(), std::fs::write("/proc/self/oom_score_adj", "1000").is_ok());
	let memory_mib = memory_bytes >> 20;
	note(format!("memory={memory_mib}MiB"), set_limit(libc::RLIMIT_AS, memory_bytes));
	set_limit(libc::RLIMIT_CORE, 0);
	set_limit(libc::RLIMIT_NOFILE, 32);
	// No core dumps through a piped `core_pattern` either, and no reading of its memory by others
	// of the same user.
	unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
	// Shutdown signals sent to the whole group or cgroup (Ctrl-C, `systemctl stop`) are the
	// node's: a worker killed by them mid-load would get a good model journalled as too large.
	// The worker ends with the node anyway (above).
	unsafe {
		libc::signal(libc::SIGINT, libc::SIG_IGN);
		libc::signal(libc::SIGTERM, libc::SIG_IGN);
	}
	let no_new_privileges = unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 };
	note("no-new-privileges".into(), no_new_privileges);
	if no_new_privileges {
		note("landlock".into(), landlock_deny_all_files());
		note("seccomp".into(), seccomp_deny_network_and_exec());
	}
	applied
}

fn set_limit(resource: libc::__rlimit_resource_t, value: u64) -> bool {
	let limit = libc::rlimit { rlim_cur: value as libc::rlim_t, rlim_max: value as libc::rlim_t };
	// SAFETY: see `enter`.
	unsafe { libc::setrlimit(resource, &limit) == 0 }
}

/// Lets the worker use `seconds` more of CPU time (rounded up to whole seconds, plus one): past
/// that the kernel sends `SIGXCPU`, which ends it. Only the soft limit moves, so it can be raised
/// again for the next request.
pub fn limit_cpu_time(seconds: u64) {
	// SAFETY: see `enter`.
	unsafe {
		let mut usage: libc::rusage = std::mem::zeroed();
		if libc::getrusage(libc::RUSAGE_SELF, &mut usage) != 0 {
			return;
		}
		let used = (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) as u64 + 1;
		let mut limit: libc::rlimit = std::mem::zeroed();
		if libc::getrlimit(libc::RLIMIT_CPU, &mut limit) != 0 {
			return;
		}
		let soft = used.saturating_add(seconds).saturating_add(1) as libc::rlim_t;
		limit.rlim_cur =
			if limit.rlim_max == libc::RLIM_INFINITY { soft } else { soft.min(limit.rlim_max) };
		libc::setrlimit(libc::RLIMIT_CPU, &limit);
	}
}

/// `struct landlock_ruleset_attr` of ABI version 1: the file system rights the ruleset handles.
#[repr(C)]
struct LandlockRulesetAttr {
	handled_access_fs: u64,
}

/// The file system rights each Landlock ABI version knows: 1 has thirteen (execute, write, read,
/// read dir, remove dir and file, make char, dir, reg, sock, fifo, block, symlink); 2 adds
/// `REFER`, 3 `TRUNCATE`, 5 `IOCTL_DEV`.
fn landlock_rights(abi: i64) -> u64 {
	let mut rights = (1u64 << 13) - 1;
	for (version, right) in [(2, 1u64 << 13), (3, 1 << 14), (5, 1 << 15)] {
		if abi >= version {
			rights |= right;
		}
	}
	rights
}

/// Handles every file system right the kernel knows and grants none: the worker can open no file
/// from now on.
fn landlock_deny_all_files() -> bool {
	const LANDLOCK_CREATE_RULESET_VERSION: u32 = 1;
	// SAFETY: see `enter`; the ruleset descriptor is closed below.
	unsafe {
		let abi = libc::syscall(
			libc::SYS_landlock_create_ruleset,
			std::ptr::null::<LandlockRulesetAttr>(),
			0usize,
			LANDLOCK_CREATE_RULESET_VERSION,
		);
		if abi < 1 {
			return false;
		}
		let attr = LandlockRulesetAttr { handled_access_fs: landlock_rights(abi) };
		let ruleset = libc::syscall(
			libc::SYS_landlock_create_ruleset,
			&attr as *const LandlockRulesetAttr,
			std::mem::size_of::<LandlockRulesetAttr>(),
			0u32,
		);
		if ruleset < 0 {
			return false;
		}
		let restricted =
			libc::syscall(libc::SYS_landlock_restrict_self, ruleset as libc::c_int, 0u32);
		libc::close(ruleset as libc::c_int);
		restricted == 0
	}
}

#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xc000_003e;
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xc000_00b7;

/// The system calls a worker never needs and a hostile model must not get: the network, other
/// programs, other processes' memory and signals to them.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
const DENIED_SYSCALLS: &[libc::c_long] = &[
	libc::SYS_socket,
	libc::SYS_socketpair,
	libc::SYS_connect,
	libc::SYS_bind,
	libc::SYS_listen,
	libc::SYS_accept,
	libc::SYS_accept4,
	libc::SYS_sendto,
	libc::SYS_sendmsg,
	libc::SYS_recvfrom,
	libc::SYS_recvmsg,
	libc::SYS_execve,
	libc::SYS_execveat,
	libc::SYS_ptrace,
	libc::SYS_process_vm_readv,
	libc::SYS_process_vm_writev,
	// Signals to other processes (`tgkill` stays: `abort` signals its own thread with it).
	libc::SYS_kill,
	libc::SYS_tkill,
	libc::SYS_rt_sigqueueinfo,
	libc::SYS_pidfd_open,
	libc::SYS_pidfd_getfd,
	libc::SYS_pidfd_send_signal,
	// io_uring can open sockets without the system calls above.
	libc::SYS_io_uring_setup,
];

/// A seccomp filter that answers `EACCES` to [`DENIED_SYSCALLS`] and kills the worker on a
/// system call of another architecture's numbering.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
fn seccomp_deny_network_and_exec() -> bool {
	const LOAD: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
	const JUMP_IF_EQUAL: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
	const RETURN: u16 = (libc::BPF_RET | libc::BPF_K) as u16;
	// Offsets in `struct seccomp_data`: the call's number, then its architecture.
	const NR: u32 = 0;
	const ARCH: u32 = 4;
	let statement = |code: u16, k: u32| libc::sock_filter { code, jt: 0, jf: 0, k };
	let jump = |k: u32, jt: u8, jf: u8| libc::sock_filter { code: JUMP_IF_EQUAL, jt, jf, k };

	let mut program = vec![
		statement(LOAD, ARCH),
		jump(AUDIT_ARCH, 1, 0),
		statement(RETURN, libc::SECCOMP_RET_KILL_PROCESS),
		statement(LOAD, NR),
	];
	// On x86-64, the x32 numbering (bit 30) reaches the same calls under other numbers.
	#[cfg(target_arch = "x86_64")]
	program.extend([
		libc::sock_filter {
			code: (libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K) as u16,
			jt: 0,
			jf: 1,
			k: 0x4000_0000,
		},
		statement(RETURN, libc::SECCOMP_RET_KILL_PROCESS),
	]);
	let denied = DENIED_SYSCALLS.len();
	for (index, call) in DENIED_SYSCALLS.iter().enumerate() {
		// On a match, jump over the remaining comparisons and the "allow" to the "deny".
		let to_deny = (denied - index) as u8;
		program.push(jump(*call as u32, to_deny, 0));
	}
	program.push(statement(RETURN, libc::SECCOMP_RET_ALLOW));
	program.push(statement(RETURN, libc::SECCOMP_RET_ERRNO | libc::EACCES as u32));
	let filter =
		libc::sock_fprog { len: program.len() as libc::c_ushort, filter: program.as_mut_ptr() };
	// SAFETY: see `enter`; the kernel copies the program before the call returns.
	unsafe {
		libc::prctl(
			libc::PR_SET_SECCOMP,
			libc::SECCOMP_MODE_FILTER as libc::c_ulong,
			&filter as *const libc::sock_fprog,
			0,
			0,
		) == 0
	}
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
fn seccomp_deny_network_and_exec() -> bool {
	false
}
