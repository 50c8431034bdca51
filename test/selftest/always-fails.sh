# Not part of the normal suite: the runner must report this as FAIL and exit non-zero.
echo "this test fails on purpose"
exit 1
