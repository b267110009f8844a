//! The web UI: the SvelteKit build embedded in the binary (or a folder given with `--ui-dir`), served
//! as a single-page app — every path that is not a file gets `index.html`.

use std::path::{Path, PathBuf};

use actix_web::dev::{ServiceRequest, ServiceResponse, fn_service};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use include_dir::{Dir, include_dir};

static EMBEDDED: Dir<'static> = include_dir!("$DW_EMBEDDED_UI_DIR");

/// SvelteKit puts content-hashed files here: they never change, so browsers may keep them.
const IMMUTABLE_PREFIX: &str = "_app/immutable/";

/// Refuses a `--ui-dir` that holds no built dashboard, which would otherwise answer every page
/// with an error.
pub fn check_dir(dir: &Path) -> Result<(), String> {
    if dir.join("index.html").is_file() {
        Ok(())
    } else {
        Err(format!(
            "--ui-dir {}: no index.html there; give the folder of a built dashboard \
             (`npm run build` in frontend/ writes frontend/build)",
            dir.display()
        ))
    }
}

/// Registers the UI as the app's fallback for GET and HEAD.
pub fn configure(config: &mut web::ServiceConfig, ui_dir: Option<PathBuf>) {
    match ui_dir {
        None => {
            config.default_service(web::to(serve_embedded));
        }
        Some(dir) => {
            let index = dir.join("index.html");
            config.service(
                actix_files::Files::new("/", dir)
                    .index_file("index.html")
                    .default_handler(fn_service(move |request: ServiceRequest| {
                        let index = index.clone();
                        async move {
                            let (request, _) = request.into_parts();
                            let file =
                                web::block(move || actix_files::NamedFile::open(index)).await??;
                            let response = file.into_response(&request);
                            Ok(ServiceResponse::new(request, response))
                        }
                    })),
            );
        }
    }
}

async fn serve_embedded(request: HttpRequest) -> HttpResponse {
    let method = request.method();
    if method != actix_web::http::Method::GET && method != actix_web::http::Method::HEAD {
        return HttpResponse::MethodNotAllowed()
            .insert_header((header::ALLOW, "GET, HEAD"))
            .finish();
    }
    let path = request.path().trim_start_matches('/');
    match EMBEDDED.get_file(path).filter(|_| !path.is_empty()) {
        Some(file) => {
            let extension = path.rsplit_once('.').map(|(_, ext)| ext).unwrap_or("");
            let cache = if path.starts_with(IMMUTABLE_PREFIX) {
                "public, max-age=31536000, immutable"
            } else {
                "no-cache"
            };
            HttpResponse::Ok()
                .insert_header((
                    header::CONTENT_TYPE,
                    actix_files::file_extension_to_mime(extension),
                ))
                .insert_header((header::CACHE_CONTROL, cache))
                .body(file.contents())
        }
        // A missing build asset is a real 404: answering with the page would hand a browser HTML
        // where it expects a script.
        None if path.starts_with("_app/") => HttpResponse::NotFound()
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .body("not found"),
        None => index(),
    }
}

fn index() -> HttpResponse {
    match EMBEDDED.get_file("index.html") {
        Some(file) => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .body(file.contents()),
        None => HttpResponse::NotFound().body("the web UI is missing from this build"),
    }
}
