#!/bin/sh
# Prints one line per harness from its last run log: executions, speed,
# coverage (cov = edges, ft = features), corpus size.
# usage: report.sh <harness>
h=$1
log=build/logs/$h.log
[ -f "$log" ] || exit 0
execs=$(grep -a 'stat::number_of_executed_units:' "$log" | tail -1 | awk '{print $2}')
speed=$(grep -a 'stat::average_exec_per_sec:' "$log" | tail -1 | awk '{print $2}')
last=$(grep -a -E '^#[0-9]+' "$log" | tail -1)
cov=$(echo "$last" | grep -a -o 'cov: [0-9]*' | awk '{print $2}')
ft=$(echo "$last" | grep -a -o 'ft: [0-9]*' | awk '{print $2}')
corp=$(echo "$last" | grep -a -o 'corp: [0-9]*/[0-9]*[a-zA-Z]*' | awk '{print $2}')
printf '%-14s execs=%-10s exec/s=%-7s cov=%-6s ft=%-6s corpus=%s\n' "$h" "${execs:-?}" "${speed:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}"
