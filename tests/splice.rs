mod common;
#[test]
fn stub() {
    let _ = common::bin();
}
