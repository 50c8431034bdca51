# The binary is static and stripped; the TLS flavour says which library it carries.
. "$TEND_TOP/test/lib.sh"

command -v file >/dev/null 2>&1 || { echo "skip: no file(1)"; exit 0; }
if is_asan; then echo "asan build: not static by design"; exit 0; fi
run file -L "$TEND"
expect_out_has "statically linked"
expect_out_has "stripped"
run "$TEND" --version
case $TEND in
*-notls/*) expect_out_has "no TLS" ;;
*) expect_out_has "mbedtls 2.28" ;;
esac
# No dynamic section at all: it runs where there is no libc.
run readelf -d "$TEND"
case $OUT in *NEEDED*) fail "binary has NEEDED entries: $OUT" ;; esac
