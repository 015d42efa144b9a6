#!/bin/sh
# wabbit-networks net-monitor: a placeholder workload for the signing tutorial.
while true; do echo "net-monitor: all links up"; sleep "${NET_MONITOR_INTERVAL:-30}"; done
