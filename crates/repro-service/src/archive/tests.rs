use std::io::Write;

use super::*;

/// One raw tar entry: the name is written into the header as is (the tar crate's own path
/// setters refuse `..` and absolute paths, which is what these tests need to send).
struct Raw<'a> {
    name: &'a str,
    kind: tar::EntryType,
    data: &'a [u8],
    link: Option<&'a str>,
    mode: u32,
}

fn file<'a>(name: &'a str, data: &'a [u8]) -> Raw<'a> {
    Raw {
        name,
        kind: tar::EntryType::Regular,
        data,
        link: None,
        mode: 0o644,
    }
}

fn link<'a>(name: &'a str, kind: tar::EntryType, target: &'a str) -> Raw<'a> {
    Raw {
        name,
        kind,
        data: b"",
        link: Some(target),
        mode: 0o777,
    }
}

fn tar_gz(entries: &[Raw<'_>]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    for e in entries {
        let mut h = tar::Header::new_gnu();
        {
            let gnu = h.as_gnu_mut().unwrap();
            gnu.name[..e.name.len()].copy_from_slice(e.name.as_bytes());
            if let Some(l) = e.link {
                gnu.linkname[..l.len()].copy_from_slice(l.as_bytes());
            }
        }
        h.set_entry_type(e.kind);
        h.set_size(e.data.len() as u64);
        h.set_mode(e.mode);
        h.set_cksum();
        b.append(&h, e.data).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap()
}

fn unpack_new(
    archive: &[u8],
    limits: &Limits,
) -> (tempfile::TempDir, Result<Unpacked, ArchiveError>) {
    let d = tempfile::tempdir().unwrap();
    let dest = d.path().join("src");
    fs_err::create_dir(&dest).unwrap();
    let r = unpack(archive, &dest, limits);
    (d, r)
}

fn err(entries: &[Raw<'_>]) -> String {
    let (_d, r) = unpack_new(&tar_gz(entries), &Limits::default());
    r.unwrap_err().to_string()
}

#[test]
fn a_project_unpacks_and_its_digest_ignores_order_and_compression() {
    let a = tar_gz(&[
        file("Cargo.toml", b"[package]\n"),
        file("src/lib.rs", b"fn f() {}\n"),
    ]);
    let (d, r) = unpack_new(&a, &Limits::default());
    let u = r.unwrap();
    assert_eq!((u.files, u.bytes), (2, 20));
    assert_eq!(
        fs_err::read_to_string(d.path().join("src/src/lib.rs")).unwrap(),
        "fn f() {}\n"
    );
    // Same tree, other order, other compression level: same digest.
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let mut b = tar::Builder::new(gz);
    for (name, data) in [
        ("src/lib.rs", &b"fn f() {}\n"[..]),
        ("Cargo.toml", b"[package]\n"),
    ] {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, name, data).unwrap();
    }
    let other = b.into_inner().unwrap().finish().unwrap();
    assert_ne!(other, a);
    let (_d2, r2) = unpack_new(&other, &Limits::default());
    assert_eq!(r2.unwrap().digest, u.digest);
    // One byte changed: another digest.
    let changed = tar_gz(&[
        file("Cargo.toml", b"[package]\n"),
        file("src/lib.rs", b"fn g() {}\n"),
    ]);
    let (_d3, r3) = unpack_new(&changed, &Limits::default());
    assert_ne!(r3.unwrap().digest, u.digest);
}

#[test]
fn paths_that_leave_the_tree_are_refused_and_nothing_is_written_outside() {
    let e = err(&[file("../evil", b"x")]);
    assert_eq!(e, "archive entry `../evil`: its path goes up with `..`");
    let e = err(&[file("/tmp/evil", b"x")]);
    assert_eq!(e, "archive entry `/tmp/evil`: its path is absolute");
    let e = err(&[file("a/../../evil", b"x")]);
    assert!(e.contains("goes up"), "{e}");
}

#[test]
fn links_out_of_the_tree_are_refused_and_links_inside_are_kept() {
    let e = err(&[link("l", tar::EntryType::Symlink, "../../etc/passwd")]);
    assert_eq!(
        e,
        "archive entry `l` is a link to `../../etc/passwd`, which is outside the project"
    );
    let e = err(&[link("l", tar::EntryType::Symlink, "/etc/passwd")]);
    assert!(e.contains("outside the project"), "{e}");
    let e = err(&[link("h", tar::EntryType::Link, "/etc/passwd")]);
    assert!(e.contains("outside the project"), "{e}");
    let e = err(&[link("h", tar::EntryType::Link, "../x")]);
    assert!(e.contains("outside the project"), "{e}");
    // A symlink to a directory inside, then a file written through it: refused (it could be
    // re-pointed by a later entry; writing never goes through links).
    let e = err(&[
        Raw {
            name: "d/",
            kind: tar::EntryType::Directory,
            data: b"",
            link: None,
            mode: 0o755,
        },
        link("l", tar::EntryType::Symlink, "d"),
        file("l/x", b"x"),
    ]);
    assert_eq!(e, "archive entry `l/x`: its path goes through a link");
    // Links inside are fine; a hard link becomes a copy.
    let (d, r) = unpack_new(
        &tar_gz(&[
            file("a.rs", b"A"),
            link("b.rs", tar::EntryType::Symlink, "a.rs"),
            link("c.rs", tar::EntryType::Link, "a.rs"),
        ]),
        &Limits::default(),
    );
    r.unwrap();
    let src = d.path().join("src");
    assert!(
        fs_err::symlink_metadata(src.join("b.rs"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        fs_err::symlink_metadata(src.join("c.rs"))
            .unwrap()
            .file_type()
            .is_file()
    );
    assert_eq!(fs_err::read(src.join("c.rs")).unwrap(), b"A");
}

#[test]
fn devices_duplicates_and_empty_archives_are_refused() {
    let e = err(&[Raw {
        name: "dev",
        kind: tar::EntryType::Char,
        data: b"",
        link: None,
        mode: 0o644,
    }]);
    assert_eq!(
        e,
        "archive entry `dev` is a character device; only files, directories and links are accepted"
    );
    let e = err(&[file("a", b"1"), file("a", b"2")]);
    assert!(e.contains("creating") || e.contains("twice"), "{e}");
    assert_eq!(err(&[]), "the code archive is empty");
}

#[test]
fn bombs_and_oversized_archives_are_stopped_while_unpacking() {
    let limits = Limits {
        max_unpacked_bytes: 1 << 20,
        max_entries: 10,
        ..Limits::default()
    };
    // 64 MiB of zeros compress to about 64 KiB.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let mut h = tar::Header::new_gnu();
    h.set_size(64 << 20);
    h.set_mode(0o644);
    h.set_path("zeros").unwrap();
    h.set_cksum();
    gz.write_all(h.as_bytes()).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..64 {
        gz.write_all(&zeros).unwrap();
    }
    let bomb = gz.finish().unwrap();
    assert!(bomb.len() < 200_000, "{}", bomb.len());
    let (d, r) = unpack_new(&bomb, &limits);
    assert_eq!(
        r.unwrap_err().to_string(),
        "the code archive unpacks to more than 1048576 bytes (decompression bomb?)"
    );
    // Nothing big was written.
    let written: u64 = walk_size(&d.path().join("src"));
    assert!(written <= 1 << 20, "{written}");

    let many: Vec<String> = (0..11).map(|i| format!("f{i}")).collect();
    let entries: Vec<Raw<'_>> = many.iter().map(|n| file(n, b"x")).collect();
    let (_d, r) = unpack_new(&tar_gz(&entries), &limits);
    assert_eq!(
        r.unwrap_err().to_string(),
        "the code archive holds more than 10 entries"
    );

    let small = Limits {
        max_archive_bytes: 10,
        ..Limits::default()
    };
    let (_d, r) = unpack_new(&tar_gz(&[file("a", b"1")]), &small);
    assert!(r.unwrap_err().to_string().ends_with("the limit is 10"));
}

#[test]
fn what_is_not_a_tar_gz_is_named() {
    let (_d, r) = unpack_new(b"PK\x03\x04 a zip", &Limits::default());
    assert_eq!(
        r.unwrap_err().to_string(),
        "the code archive is not gzip-compressed (a .tar.gz is expected)"
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&[7u8; 700]).unwrap();
    let (_d, r) = unpack_new(&gz.finish().unwrap(), &Limits::default());
    assert!(
        r.unwrap_err()
            .to_string()
            .starts_with("the code archive is not a valid tar.gz"),
    );
    // Truncated gzip.
    let a = tar_gz(&[file("a", &[1u8; 5000])]);
    let (_d, r) = unpack_new(&a[..a.len() / 2], &Limits::default());
    assert!(r.is_err());
}

fn walk_size(p: &Path) -> u64 {
    let mut n = 0;
    for e in fs_err::read_dir(p).unwrap() {
        let e = e.unwrap();
        let m = e.metadata().unwrap();
        n += if m.is_dir() {
            walk_size(&e.path())
        } else {
            m.len()
        };
    }
    n
}
