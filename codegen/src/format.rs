//! Format stage: tokens -> pretty Rust text with the `@generated` header.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use proc_macro2::TokenStream;

use crate::emit::Chunk;
use crate::error::{Error, ErrorKind, Location};
use crate::output::GeneratedFile;

/// Formats tokens as a Rust file and prepends the header lines (each becomes a `//` comment).
pub fn format_file(tokens: TokenStream, header: &[String]) -> Result<String, Error> {
    format_chunks(std::iter::once(tokens), header)
}

/// Formats a file given as chunks of whole items (the first may open with the file's inner
/// attributes), one chunk at a time, so only one chunk's tokens and syntax tree are alive at
/// once: a file's forms (tokens, tree, text) are never all held for the whole file. The text is
/// the same as formatting the whole file at once, since prettyplease prints items one after
/// another.
pub fn format_chunks(chunks: impl IntoIterator<Item = TokenStream>, header: &[String]) -> Result<String, Error> {
    let mut out = with_header("", header);
    for chunk in chunks {
        out.push_str(&format_chunk(chunk)?);
    }
    Ok(out)
}

/// One chunk of whole items as text.
fn format_chunk(tokens: TokenStream) -> Result<String, Error> {
    let file: syn::File = syn::parse2(tokens).map_err(|err| {
        Error::new(
            Location { file: "<generated>".into(), line: None, column: None, pointer: String::new() },
            ErrorKind::Internal(format!("emitted tokens do not parse as Rust: {err}")),
        )
    })?;
    Ok(prettyplease::unparse(&file))
}

/// A file to emit and format, as its chunks.
pub struct ChunkedFile<'a> {
    /// Path relative to the output crate.
    pub path: PathBuf,
    /// The `@generated` header lines.
    pub header: &'a [String],
    /// The file's items, in order.
    pub chunks: Vec<Chunk<'a>>,
}

/// Emits and formats files chunk by chunk on every core (the calling thread is one of the
/// workers): chunks, not files, are the unit of work, so one large file does not leave a core
/// idle, and each file's text is its chunks' texts in order, the same bytes on any number of
/// cores. The first error in file and chunk order is returned.
pub fn format_files(files: Vec<ChunkedFile<'_>>) -> Result<Vec<GeneratedFile>, Error> {
    // The file of each queued chunk, in queue order.
    let mut owners = Vec::new();
    let mut queue: Vec<Mutex<Option<Chunk<'_>>>> = Vec::new();
    let mut shells = Vec::new();
    for (file_index, file) in files.into_iter().enumerate() {
        owners.extend(std::iter::repeat_n(file_index, file.chunks.len()));
        queue.extend(file.chunks.into_iter().map(|chunk| Mutex::new(Some(chunk))));
        shells.push((file.path, file.header));
    }
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done: Vec<(usize, Result<String, Error>)> = Vec::new();
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(slot) = queue.get(index) else { break };
            let chunk = slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
            if let Some(chunk) = chunk {
                done.push((index, format_chunk(chunk())));
            }
        }
        done
    };
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(queue.len()).max(1);
    let mut texts: Vec<Option<Result<String, Error>>> = (0..queue.len()).map(|_| None).collect();
    std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..workers).map(|_| scope.spawn(work)).collect();
        let mut results = work();
        for helper in helpers {
            results.extend(helper.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
        }
        for (index, text) in results {
            texts[index] = Some(text);
        }
    });
    let texts: Vec<String> = texts
        .into_iter()
        .map(|text| {
            text.unwrap_or_else(|| {
                Err(Error::new(
                    Location { file: "<generated>".into(), line: None, column: None, pointer: String::new() },
                    ErrorKind::Internal("a chunk of a generated file was not formatted".into()),
                ))
            })
        })
        .collect::<Result<_, _>>()?;
    // Each file's text at its final size, each chunk's text dropped once copied.
    let mut sizes = vec![0; shells.len()];
    for (&file_index, text) in owners.iter().zip(&texts) {
        sizes[file_index] += text.len();
    }
    let mut out: Vec<GeneratedFile> = shells
        .into_iter()
        .zip(sizes)
        .map(|((path, header), size)| {
            let mut contents = with_header("", header);
            contents.reserve_exact(size);
            GeneratedFile { path, contents }
        })
        .collect();
    for (file_index, text) in owners.into_iter().zip(texts) {
        out[file_index].contents.push_str(&text);
    }
    Ok(out)
}

/// Text already formatted (the support modules, formatted when the generator was built), after
/// the header lines.
pub fn with_header(formatted: &str, header: &[String]) -> String {
    let mut out = String::with_capacity(formatted.len() + 200);
    for line in header {
        out.push_str("// ");
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(formatted);
    out
}

/// The `@generated` header naming the source and its sha256.
pub fn generated_header(source_display: &str, sha256: &str) -> Vec<String> {
    vec![
        format!("@generated by vipps-codegen from {source_display} (sha256 {sha256})."),
        "Do not edit by hand: change the spec or the generator, then run `cargo xtask codegen`.".to_string(),
    ]
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;

    fn chunk<'a>(tokens: &'a str) -> Chunk<'a> {
        Box::new(move || tokens.parse().expect("test tokens"))
    }

    #[test]
    fn files_formatted_by_chunks_on_every_core_are_the_whole_files_formatted_alone() {
        let header = vec!["header line".to_string()];
        let items: Vec<String> = (0..40).map(|n| format!("/// Item {n}.\npub struct S{n} {{ pub value: u32 }}")).collect();
        let files = vec![
            ChunkedFile { path: "a.rs".into(), header: &header, chunks: items[..25].iter().map(|item| chunk(item)).collect() },
            ChunkedFile { path: "b.rs".into(), header: &header, chunks: items[25..].iter().map(|item| chunk(item)).collect() },
        ];
        let formatted = format_files(files).expect("formats");
        assert_eq!(formatted.iter().map(|file| file.path.to_str().unwrap_or_default()).collect::<Vec<_>>(), ["a.rs", "b.rs"]);
        let whole = |items: &[String]| format_file(items.concat().parse().expect("tokens"), &header).expect("formats");
        assert_eq!(formatted[0].contents, whole(&items[..25]));
        assert_eq!(formatted[1].contents, whole(&items[25..]));
        assert!(formatted[0].contents.starts_with("// header line\n"), "{}", formatted[0].contents);
    }

    #[test]
    fn a_chunk_that_is_not_rust_is_an_internal_error_not_a_panic() {
        let header = Vec::new();
        let files = vec![ChunkedFile {
            path: "bad.rs".into(),
            header: &header,
            chunks: vec![chunk("pub struct Fine;"), Box::new(|| quote! { pub struct ; })],
        }];
        let err = format_files(files).expect_err("the second chunk does not parse");
        assert!(matches!(&err.kind, ErrorKind::Internal(message) if message.starts_with("emitted tokens do not parse as Rust")), "{err}");
    }
}
