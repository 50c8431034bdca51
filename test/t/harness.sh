# The runner's own failure path: a failing test is reported and makes it exit non-zero.
. "$TEND_TOP/test/lib.sh"

run "$TOP/test/run.sh" "$TOP/test/selftest/always-fails.sh"
expect_rc 1
expect_out_has "FAIL always-fails: this test fails on purpose"
[ "$(printf '%s\n' "$OUT" | tail -n 1)" = "0 passed, 1 failed" ] || fail "last line: $(printf '%s\n' "$OUT" | tail -n 1)"

# ...and through make, the README's command, with only that test selected.
run make -s -C "$TOP" test TESTS="$TOP/test/selftest/always-fails.sh" FLAVOUR="$( case $TEND in */asan/*) echo asan ;; *) echo musl ;; esac)"
[ "$RC" != 0 ] || fail "make test with a failing test exited 0"
expect_out_has "0 passed, 1 failed"

# A passing run of two tests in parallel counts both.
printf '. "$TEND_TOP/test/lib.sh"\nexit 0\n' >"$T/pass1.sh"
cp "$T/pass1.sh" "$T/pass2.sh"
run "$TOP/test/run.sh" -j 2 "$T/pass1.sh" "$T/pass2.sh"
expect_rc 0
[ "$(printf '%s\n' "$OUT" | tail -n 1)" = "2 passed, 0 failed" ] || fail "parallel run: $OUT"

# lib.sh's wait_for gives up at its deadline with a reason.
printf '. "$TEND_TOP/test/lib.sh"\nwait_for 1 false\n' >"$T/waits.sh"
run "$TOP/test/run.sh" "$T/waits.sh"
expect_rc 1
expect_out_has "timed out after 1s waiting for: false"
