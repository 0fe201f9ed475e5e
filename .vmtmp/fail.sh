#!/bin/sh
echo "failing with 3"; exit 3
