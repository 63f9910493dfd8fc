//! The same requests through HAProxy 2.6 and haproxy-rs on the same rule
//! configuration, side by side: status, the headers the rules touch, and
//! the body must be the same for every request of the table.

mod common;
#[path = "common/http.rs"]
mod http_common;

use common::{HAPROXY, Proxy, bin, free_port, have_haproxy};
use http_common::{Client, Response, http_config};

/// The configuration, on `port` (the client side) and `origin` (a local
/// frontend standing for the server, answering with what it received).
fn config(port: u16, origin: u16, map: &str) -> String {
    http_config(
        "",
        &format!(
            "frontend f\n  bind 127.0.0.1:{port}\n\
  acl api path_beg -i /api/ /v2/\n\
  acl static path_end .css .js .png\n\
  acl img path_reg ^/img/[0-9]+\\.jpg$\n\
  acl internal src 127.0.0.0/8\n\
  acl admin_host hdr(host) -i -m dom admin.example.com\n\
  acl has_token req.hdr(x-token) -m found\n\
  acl short_ua req.hdr(user-agent),length lt 5\n\
  acl lang_fr url_param(lang) -i fr\n\
  acl big req.hdr_val(content-length) gt 100\n\
  acl post method POST\n\
  http-request set-var(txn.host) req.hdr(host),lower,field(1,:)\n\
  http-request set-var(txn.site) var(txn.host),map({map},unknown)\n\
  http-request deny deny_status 401 if admin_host !has_token\n\
  http-request deny deny_status 413 if post big\n\
  http-request redirect prefix /fr code 302 if lang_fr !{{ path_beg /fr }}\n\
  http-request redirect location /img/%[path,field(3,/),regsub(\\.jpeg$,.jpg)] code 301 if {{ path_beg /img/ }} {{ path_end .jpeg }}\n\
  http-request return status 200 content-type text/plain lf-string \"ua-short %[req.hdr(user-agent)]\" if short_ua\n\
  http-request set-header X-Site %[var(txn.site)]\n\
  http-request set-header X-Api yes if api\n\
  http-request add-header X-Hash %[path,crc32] if static || img\n\
  http-request del-header X-Secret\n\
  http-request set-path /internal%[path] if {{ path_beg /private/ }} internal\n\
  http-request set-query lang=en if {{ query -m len 0 }} {{ path /q }}\n\
  http-response set-header X-Resp %[res.hdr(x-origin),upper]\n\
  use_backend b_api if api\n\
  use_backend %[var(txn.site)] if {{ var(txn.site) -m beg b_ }}\n\
  default_backend b_main\n\n\
backend b_api\n  http-request set-header X-Be api\n  server s 127.0.0.1:{origin}\n\n\
backend b_shop\n  http-request set-header X-Be shop\n  server s 127.0.0.1:{origin}\n\n\
backend b_main\n  http-request set-header X-Be main\n  server s 127.0.0.1:{origin}\n\n\
frontend origin\n  bind 127.0.0.1:{origin}\n\
  http-response set-header X-Origin seen\n\
  http-request return status 200 content-type text/plain lf-string \"%[method] %[url] be=%[req.hdr(x-be)] site=%[req.hdr(x-site)] api=%[req.hdr(x-api)] hash=%[req.hdr(x-hash)] secret=%[req.hdr(x-secret)]\"\n"
        ),
    )
}

/// The requests of the table.
const REQUESTS: &[&str] = &[
    "GET / HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: curl/8\r\n\r\n",
    "GET /api/users HTTP/1.1\r\nHost: shop.example.com\r\nUser-Agent: curl/8\r\n\r\n",
    "GET /API/users HTTP/1.1\r\nHost: x\r\nUser-Agent: curl/8\r\n\r\n",
    "GET /cart HTTP/1.1\r\nHost: SHOP.example.com:8080\r\nUser-Agent: curl/8\r\n\r\n",
    "GET /style.css HTTP/1.1\r\nHost: x\r\nUser-Agent: curl/8\r\nX-Secret: s\r\n\r\n",
    "GET /img/42.jpg HTTP/1.1\r\nHost: x\r\nUser-Agent: curl/8\r\n\r\n",
    "GET /img/42.jpeg HTTP/1.1\r\nHost: x\r\nUser-Agent: curl/8\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: admin.example.com\r\nUser-Agent: curl/8\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a.admin.example.com\r\nUser-Agent: curl/8\r\nX-Token: t\r\n\r\n",
    "POST /upload HTTP/1.1\r\nHost: x\r\nUser-Agent: curl/8\r\nContent-Length: 200\r\n\r\n",
    "POST /upload HTTP/1.1\r\nHost: x\r\nUser-Agent: curl/8\r\nContent-Length: 2\r\n\r\nab",
    "GET /page?lang=FR HTTP/1.1\r\nHost: x\r\nUser-Agent: curl/8\r\n\r\n",
    "GET /fr/page?lang=fr HTTP/1.1\r\nHost: x\r\nUser-Agent: curl/8\r\n\r\n",
    "GET /x HTTP/1.1\r\nHost: x\r\nUser-Agent: ab\r\n\r\n",
    "GET /private/doc HTTP/1.1\r\nHost: x\r\nUser-Agent: curl/8\r\n\r\n",
    "GET /q HTTP/1.1\r\nHost: x\r\nUser-Agent: curl/8\r\n\r\n",
    "GET /q?a=1 HTTP/1.1\r\nHost: x\r\nUser-Agent: curl/8\r\n\r\n",
    "GET /v2/items HTTP/1.1\r\nHost: blog.example.com\r\nUser-Agent: curl/8\r\n\r\n",
];

/// What is compared of a response.
fn summary(r: &Response) -> String {
    let h = |n: &str| r.head.get(n).unwrap_or("-").to_string();
    format!(
        "{} location={} x-resp={} body={}",
        r.status(),
        h("location"),
        h("x-resp"),
        String::from_utf8_lossy(&r.body)
    )
}

#[test]
fn the_same_requests_get_the_same_answers_from_both_proxies() {
    if !have_haproxy() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("hrs-rules-cmp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let map = dir.join("sites.map");
    std::fs::write(
        &map,
        "# host site\nshop.example.com b_shop\nwww.example.com site_www\nblog.example.com b_blog\n",
    )
    .expect("map");
    let map = map.to_string_lossy().to_string();
    let mut answers: Vec<Vec<String>> = Vec::new();
    for program in [bin(), HAPROXY] {
        let (port, origin) = (free_port(), free_port());
        let p = Proxy::start_program(
            program,
            &config(port, origin, &map),
            &[port, origin],
            &["-db"],
        );
        let got: Vec<String> = REQUESTS
            .iter()
            .map(|req| {
                let mut c = Client::connect(port);
                summary(&c.exchange(req.as_bytes()))
            })
            .collect();
        drop(p);
        answers.push(got);
    }
    let _ = std::fs::remove_dir_all(&dir);
    let mut diffs = Vec::new();
    for (i, req) in REQUESTS.iter().enumerate() {
        let (rs, hap) = (&answers[0][i], &answers[1][i]);
        if rs != hap {
            diffs.push(format!(
                "{}\n  haproxy-rs: {rs}\n  HAProxy:    {hap}",
                req.lines().next().unwrap_or("")
            ));
        }
    }
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
    // The table exercises what it claims to: a few answers, as 2.6 gave them.
    let rs = &answers[0];
    assert!(
        rs[1].contains("be=api") && rs[1].contains("site=b_shop"),
        "{}",
        rs[1]
    );
    assert!(rs[3].contains("be=shop"), "{}", rs[3]);
    assert!(rs[7].starts_with("401"), "{}", rs[7]);
    assert!(rs[9].starts_with("413"), "{}", rs[9]);
    assert!(
        rs[11].starts_with("302 location=/fr/page?lang=FR"),
        "{}",
        rs[11]
    );
}
