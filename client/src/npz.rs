//! NumPy `.npz` archives: zip files holding one `.npy` array per name. Read as `np.savez` (stored
//! entries) and `np.savez_compressed` (deflated entries) write them, and written with stored
//! entries, which `np.load` reads.
//!
//! Only what those need of the zip format: the central directory (for names, methods and sizes,
//! which it always holds exactly, even when the local headers of a streamed entry do not), local
//! headers to find each entry's data, and CRC-32 checks.

use std::io::Read;

use anyhow::{anyhow, bail, ensure, Context, Result};

const LOCAL_HEADER: u32 = 0x0403_4b50;
const CENTRAL_HEADER: u32 = 0x0201_4b50;
const END_OF_DIRECTORY: u32 = 0x0605_4b50;
/// The fixed part of the end-of-central-directory record; a comment of up to 64 KiB may follow.
const END_RECORD_LEN: usize = 22;
const STORED: u16 = 0;
const DEFLATED: u16 = 8;
/// The most bytes one entry may inflate to: far above what a job carries, and a bound on what a
/// hostile archive can make the client allocate.
const MAX_ENTRY_BYTES: u64 = 1 << 30;

fn u16_at(bytes: &[u8], at: usize) -> Result<u16> {
	let field = bytes.get(at..at + 2).ok_or_else(|| anyhow!("truncated .npz archive"))?;
	Ok(u16::from_le_bytes([field[0], field[1]]))
}

fn u32_at(bytes: &[u8], at: usize) -> Result<u32> {
	let field = bytes.get(at..at + 4).ok_or_else(|| anyhow!("truncated .npz archive"))?;
	Ok(u32::from_le_bytes([field[0], field[1], field[2], field[3]]))
}

/// The arrays of an `.npz` archive: each entry's name without `.npy`, and its `.npy` bytes, in
/// the archive's order.
pub fn read(bytes: &[u8]) -> Result<Vec<(String, Vec<u8>)>> {
	let earliest = bytes.len().saturating_sub(END_RECORD_LEN + usize::from(u16::MAX));
	let end = (earliest..=bytes.len().saturating_sub(END_RECORD_LEN))
		.rev()
		.find(|&at| u32_at(bytes, at).ok() == Some(END_OF_DIRECTORY))
		.ok_or_else(|| anyhow!("not a .npz (zip) archive"))?;
	let count = u16_at(bytes, end + 10)?;
	let mut at = u32_at(bytes, end + 16)? as usize;
	let mut arrays = Vec::with_capacity(usize::from(count));
	for _ in 0..count {
		ensure!(u32_at(bytes, at)? == CENTRAL_HEADER, "a damaged .npz central directory");
		let method = u16_at(bytes, at + 10)?;
		let crc = u32_at(bytes, at + 16)?;
		let packed = u32_at(bytes, at + 20)? as usize;
		let size = u64::from(u32_at(bytes, at + 24)?);
		let name_len = usize::from(u16_at(bytes, at + 28)?);
		let extra_len = usize::from(u16_at(bytes, at + 30)?);
		let comment_len = usize::from(u16_at(bytes, at + 32)?);
		let local = u32_at(bytes, at + 42)? as usize;
		let name = bytes
			.get(at + 46..at + 46 + name_len)
			.ok_or_else(|| anyhow!("truncated .npz archive"))?;
		let name = String::from_utf8_lossy(name).into_owned();
		at += 46 + name_len + extra_len + comment_len;

		ensure!(u32_at(bytes, local)? == LOCAL_HEADER, "a damaged .npz entry `{name}`");
		let start = local
			+ 30 + usize::from(u16_at(bytes, local + 26)?)
			+ usize::from(u16_at(bytes, local + 28)?);
		let stored = bytes
			.get(start..start + packed)
			.ok_or_else(|| anyhow!("the .npz entry `{name}` is truncated"))?;
		ensure!(size <= MAX_ENTRY_BYTES, "the .npz entry `{name}` is too large");
		let data = match method {
			STORED => stored.to_vec(),
			DEFLATED => {
				let mut data = Vec::with_capacity(size as usize);
				flate2::read::DeflateDecoder::new(stored)
					.take(size + 1)
					.read_to_end(&mut data)
					.with_context(|| format!("inflating the .npz entry `{name}`"))?;
				data
			},
			other => bail!("the .npz entry `{name}` uses zip method {other}; use np.savez"),
		};
		ensure!(data.len() as u64 == size, "the .npz entry `{name}` has the wrong size");
		ensure!(crc32fast::hash(&data) == crc, "the .npz entry `{name}` fails its checksum");
		let name = name.strip_suffix(".npy").unwrap_or(&name).to_string();
		arrays.push((name, data));
	}
	Ok(arrays)
}

/// An `.npz` archive of `arrays` (names without `.npy`, `.npy` bytes), entries stored.
pub fn write(arrays: &[(String, Vec<u8>)]) -> Result<Vec<u8>> {
	let mut archive = Vec::new();
	let mut directory = Vec::new();
	for (name, data) in arrays {
		let name = format!("{name}.npy");
		let name_len = u16::try_from(name.len()).context("an array name is too long")?;
		let size = u32::try_from(data.len()).context("an array is over 4 GiB")?;
		let offset = u32::try_from(archive.len()).context("the archive is over 4 GiB")?;
		let crc = crc32fast::hash(data);
		// Version 2.0, no flags, stored, no time: the fields both headers share.
		let mut common = Vec::with_capacity(26);
		common.extend_from_slice(&20u16.to_le_bytes());
		common.extend_from_slice(&0u16.to_le_bytes());
		common.extend_from_slice(&STORED.to_le_bytes());
		common.extend_from_slice(&[0; 4]);
		common.extend_from_slice(&crc.to_le_bytes());
		common.extend_from_slice(&size.to_le_bytes());
		common.extend_from_slice(&size.to_le_bytes());
		common.extend_from_slice(&name_len.to_le_bytes());
		common.extend_from_slice(&0u16.to_le_bytes());

		archive.extend_from_slice(&LOCAL_HEADER.to_le_bytes());
		archive.extend_from_slice(&common);
		archive.extend_from_slice(name.as_bytes());
		archive.extend_from_slice(data);

		directory.extend_from_slice(&CENTRAL_HEADER.to_le_bytes());
		directory.extend_from_slice(&20u16.to_le_bytes());
		directory.extend_from_slice(&common);
		// No comment, disk 0, no internal or external attributes, then where the local header is.
		directory.extend_from_slice(&[0; 10]);
		directory.extend_from_slice(&offset.to_le_bytes());
		directory.extend_from_slice(name.as_bytes());
	}
	let count = u16::try_from(arrays.len()).context("too many arrays")?;
	let directory_at = u32::try_from(archive.len()).context("the archive is over 4 GiB")?;
	let directory_len = u32::try_from(directory.len()).context("the archive is over 4 GiB")?;
	archive.extend_from_slice(&directory);
	archive.extend_from_slice(&END_OF_DIRECTORY.to_le_bytes());
	archive.extend_from_slice(&[0; 4]);
	archive.extend_from_slice(&count.to_le_bytes());
	archive.extend_from_slice(&count.to_le_bytes());
	archive.extend_from_slice(&directory_len.to_le_bytes());
	archive.extend_from_slice(&directory_at.to_le_bytes());
	archive.extend_from_slice(&0u16.to_le_bytes());
	Ok(archive)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn arrays_written_read_back_by_name_and_in_order() {
		let arrays =
			vec![("y".to_string(), vec![1, 2, 3]), ("state_next".to_string(), vec![4; 40])];
		let archive = write(&arrays).unwrap();
		assert_eq!(read(&archive).unwrap(), arrays);
		// A flipped data byte fails the checksum; a cut archive is refused, not misread.
		let mut damaged = archive.clone();
		damaged[30 + "y.npy".len()] ^= 1;
		assert!(format!("{:#}", read(&damaged).unwrap_err()).contains("checksum"));
		assert!(read(&archive[..archive.len() / 2]).is_err());
		assert!(read(b"not a zip").is_err());
	}

	#[test]
	fn deflated_entries_are_inflated() {
		use std::io::Write;
		let data = vec![7u8; 1000];
		let mut encoder =
			flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
		encoder.write_all(&data).unwrap();
		let packed = encoder.finish().unwrap();
		// A stored archive, then its one entry switched to the deflated bytes.
		let stored = write(&[("x".to_string(), data.clone())]).unwrap();
		let directory_at = u32_at(&stored, stored.len() - 6).unwrap() as usize;
		let name_end = 30 + "x.npy".len();
		let mut archive = stored[..name_end].to_vec();
		archive.extend_from_slice(&packed);
		let moved = archive.len();
		archive.extend_from_slice(&stored[directory_at..]);
		let patch = |archive: &mut Vec<u8>, at: usize, value: &[u8]| {
			archive[at..at + value.len()].copy_from_slice(value)
		};
		for header in [0, moved + 2] {
			patch(&mut archive, header + 8, &DEFLATED.to_le_bytes());
			patch(&mut archive, header + 18, &(packed.len() as u32).to_le_bytes());
		}
		let end = archive.len() - END_RECORD_LEN;
		patch(&mut archive, end + 16, &(moved as u32).to_le_bytes());
		assert_eq!(read(&archive).unwrap(), vec![("x".to_string(), data)]);
	}
}
