//! Files in tests: multipart bodies as browsers and the SDK send them, downloads
//! with the headers that matter, small PNGs.

use litebase::testing::agent;
use serde_json::Value;

/// One part of a multipart body: a value, or a file (name and bytes).
pub enum Part<'a> {
    Text(&'a str, &'a str),
    File(&'a str, &'a str, &'a [u8]),
}

pub const BOUNDARY: &str = "----litebaseTestBoundary7MA4YWxkTrZu0gW";

/// A multipart/form-data body as browsers and the SDK send it.
pub fn multipart(parts: &[Part]) -> Vec<u8> {
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match part {
            Part::Text(name, value) => {
                body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                        .as_bytes(),
                );
            }
            Part::File(name, file, bytes) => {
                body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(bytes);
                body.extend_from_slice(b"\r\n");
            }
        }
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// Sends a multipart body (`POST` or `PATCH`); the answer as JSON with its status.
pub fn send_form(
    method: &str,
    url: &str,
    token: &str,
    parts: &[Part],
) -> anyhow::Result<(u16, Value)> {
    let body = multipart(parts);
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    let request = match method {
        "POST" => agent().post(url),
        _ => agent().patch(url),
    };
    let mut reply = request
        .header("Content-Type", &content_type)
        .header("Authorization", token)
        .send(&body[..])?;
    let status = reply.status().as_u16();
    let text = reply.body_mut().read_to_string()?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

/// A download: status, headers asked for, body bytes.
pub struct Download {
    pub status: u16,
    pub content_type: String,
    pub disposition: String,
    pub cache: String,
    pub body: Vec<u8>,
}

pub fn download(url: &str) -> anyhow::Result<Download> {
    let mut reply = agent().get(url).call()?;
    let header = |name: &str| {
        reply
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let (content_type, disposition, cache) = (
        header("content-type"),
        header("content-disposition"),
        header("cache-control"),
    );
    let status = reply.status().as_u16();
    let body = reply
        .body_mut()
        .with_config()
        .limit(1 << 30)
        .read_to_vec()?;
    Ok(Download {
        status,
        content_type,
        disposition,
        cache,
        body,
    })
}

/// A PNG of `w`×`h` pixels.
pub fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::DynamicImage::ImageRgba8(image::RgbaImage::from_pixel(
        w,
        h,
        image::Rgba([200, 30, 30, 255]),
    ));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .unwrap_or_else(|e| panic!("{e}"));
    out.into_inner()
}

/// `GET url` with extra headers: status, the named response header, body bytes.
pub fn get_with(
    url: &str,
    headers: &[(&str, &str)],
    wanted: &str,
) -> anyhow::Result<(u16, String, Vec<u8>)> {
    let mut request = agent().get(url);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let mut reply = request.call()?;
    let header = reply
        .headers()
        .get(wanted)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let status = reply.status().as_u16();
    let body = reply
        .body_mut()
        .with_config()
        .limit(1 << 30)
        .read_to_vec()?;
    Ok((status, header, body))
}
