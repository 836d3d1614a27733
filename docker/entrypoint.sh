#!/bin/sh
# One image, four roles: api, worker, beat, migrate. Anything else runs as given.
set -e
case "$1" in
  api)     shift; exec factcheck api "$@" ;;
  worker)  shift; exec factcheck worker "$@" ;;
  beat)    shift; exec factcheck beat --home /tmp/factcheck "$@" ;;
  migrate) shift; exec factcheck db upgrade "$@" ;;
  *)       exec "$@" ;;
esac
