//! Thumbs of uploaded images, in PocketBase's sizes: `WxH` (fill the box,
//! cropped from the center), `WxHt` / `WxHb` (cropped from the top / bottom),
//! `WxHf` (fit inside the box, never enlarged), `Wx0` / `0xH` (one side given,
//! the other keeping the aspect ratio). JPEG and GIF thumbs keep their format;
//! PNG and WebP ones are PNG.

use std::io::Cursor;

use image::imageops::FilterType;
use image::{DynamicImage, ImageFormat};

/// How the image is fitted into the size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Fill the box, crop the center.
    Center,
    /// Fill the box, keep the top.
    Top,
    /// Fill the box, keep the bottom.
    Bottom,
    /// Fit inside the box.
    Fit,
}

/// A thumb size asked with `?thumb=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThumbSize {
    /// Width in pixels (0: from the height).
    pub width: u32,
    /// Height in pixels (0: from the width).
    pub height: u32,
    /// How the image is fitted.
    pub mode: Mode,
}

/// The biggest side a thumb may ask for.
const MAX_SIDE: u32 = 4096;

/// Reads `WxH`, `WxHt`, `WxHb`, `WxHf`; `None` for anything else (or 0x0).
///
/// ```
/// use litebase::files::thumb::{parse, Mode};
/// assert_eq!(parse("100x50t").map(|s| (s.width, s.height, s.mode)), Some((100, 50, Mode::Top)));
/// assert!(parse("0x0").is_none() && parse("10x").is_none());
/// ```
pub fn parse(size: &str) -> Option<ThumbSize> {
    let (mode, rest) = match size.as_bytes().last()? {
        b't' => (Mode::Top, &size[..size.len() - 1]),
        b'b' => (Mode::Bottom, &size[..size.len() - 1]),
        b'f' => (Mode::Fit, &size[..size.len() - 1]),
        _ => (Mode::Center, size),
    };
    let (w, h) = rest.split_once('x')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(w) || !digits(h) {
        return None;
    }
    let (width, height) = (w.parse::<u32>().ok()?, h.parse::<u32>().ok()?);
    if (width == 0 && height == 0) || width > MAX_SIDE || height > MAX_SIDE {
        return None;
    }
    Some(ThumbSize {
        width,
        height,
        mode,
    })
}

/// Why a thumb could not be made (the original is served instead).
#[derive(Debug, thiserror::Error)]
pub enum ThumbError {
    /// The image could not be decoded or encoded.
    #[error("image: {0}")]
    Image(#[from] image::ImageError),
    /// The bytes could not be read.
    #[error("read: {0}")]
    Io(#[from] std::io::Error),
}

/// The thumb of `original` (an image of content type `content_type`) at
/// `size`: its bytes and content type.
pub fn make(
    original: &[u8],
    content_type: &str,
    size: ThumbSize,
) -> Result<(Vec<u8>, &'static str), ThumbError> {
    let mut reader = image::ImageReader::new(Cursor::new(original)).with_guessed_format()?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(16_384);
    limits.max_image_height = Some(16_384);
    limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(limits);
    let img = reader.decode()?;
    let thumb = resize(&img, size);
    let (format, out_type) = match super::sniff::base(content_type) {
        "image/jpeg" | "image/jpg" => (ImageFormat::Jpeg, "image/jpeg"),
        "image/gif" => (ImageFormat::Gif, "image/gif"),
        _ => (ImageFormat::Png, "image/png"),
    };
    let thumb = match format {
        ImageFormat::Jpeg => DynamicImage::ImageRgb8(thumb.to_rgb8()),
        _ => DynamicImage::ImageRgba8(thumb.to_rgba8()),
    };
    let mut out = Cursor::new(Vec::new());
    thumb.write_to(&mut out, format)?;
    Ok((out.into_inner(), out_type))
}

fn resize(img: &DynamicImage, size: ThumbSize) -> DynamicImage {
    let (iw, ih) = (img.width().max(1), img.height().max(1));
    let filter = FilterType::Triangle;
    let (w, h) = (size.width, size.height);
    if w == 0 || h == 0 {
        let (w, h) = if w == 0 {
            (scaled(iw, h, ih), h)
        } else {
            (w, scaled(ih, w, iw))
        };
        return img.resize_exact(w.max(1), h.max(1), filter);
    }
    match size.mode {
        Mode::Fit if iw <= w && ih <= h => img.clone(),
        Mode::Fit => img.resize(w, h, filter),
        Mode::Center | Mode::Top | Mode::Bottom => {
            // Scale so the image covers the box, then crop the box out.
            let scale = f64::max(f64::from(w) / f64::from(iw), f64::from(h) / f64::from(ih));
            let sw = ((f64::from(iw) * scale).round() as u32).max(w);
            let sh = ((f64::from(ih) * scale).round() as u32).max(h);
            let covered = img.resize_exact(sw, sh, filter);
            let x = (sw - w) / 2;
            let y = match size.mode {
                Mode::Top => 0,
                Mode::Bottom => sh - h,
                _ => (sh - h) / 2,
            };
            covered.crop_imm(x, y, w, h)
        }
    }
}

/// `side * num / den`, rounded.
fn scaled(side: u32, num: u32, den: u32) -> u32 {
    ((u64::from(side) * u64::from(num) + u64::from(den) / 2) / u64::from(den)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = DynamicImage::ImageRgba8(image::RgbaImage::from_fn(w, h, |x, y| {
            image::Rgba([(x % 255) as u8, (y % 255) as u8, 0, 255])
        }));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png)
            .unwrap_or_else(|e| panic!("{e}"));
        out.into_inner()
    }

    fn dims(bytes: &[u8]) -> (u32, u32) {
        image::load_from_memory(bytes)
            .map(|i| (i.width(), i.height()))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn sizes_like_pocketbase() -> Result<(), ThumbError> {
        let original = png(40, 20);
        for (size, expected) in [
            ("10x10", (10, 10)),
            ("10x10t", (10, 10)),
            ("10x10b", (10, 10)),
            ("10x10f", (10, 5)),
            ("100x100f", (40, 20)),
            ("20x0", (20, 10)),
            ("0x10", (20, 10)),
        ] {
            let size = parse(size).unwrap_or_else(|| panic!("{size}"));
            let (bytes, kind) = make(&original, "image/png", size)?;
            assert_eq!(kind, "image/png");
            assert_eq!(dims(&bytes), expected, "{size:?}");
        }
        Ok(())
    }

    #[test]
    fn bad_sizes_and_bad_images() {
        for bad in [
            "", "x", "10", "10x", "x10", "0x0", "-1x5", "10x10z", "5000x1", "1e2x3",
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
        assert!(parse("100x100").is_some());
        let size = parse("10x10").unwrap_or_else(|| panic!("size"));
        assert!(make(b"not an image", "image/png", size).is_err());
    }
}
