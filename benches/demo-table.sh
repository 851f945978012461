# Sourced by the push benchmarks: builds the release binary and reads the
# table `kustomerge demo` prints.
#
# Columns of the demo's table: 3 = plain git, 4 = kustomerge push
# (combining), 5 = kustomerge push --no-combine, 6 = serialised (--serial).

cargo build --release --quiet
bin=target/release/kustomerge

# The cell in row $2 (landed, wall seconds, server calls per job, ...) and
# column $3 of the demo's table in $1.
cell() {
    awk -F'|' -v row="$2" -v col="$3" \
        '{ key = $2; gsub(/^ +| +$/, "", key) } key == row { v = $col; gsub(/ /, "", v); print v }' <<<"$1"
}
