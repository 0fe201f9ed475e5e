#!/bin/bash
set -e
insmod .vmtmp/hello.ko
lsmod | grep hello
rmmod hello
modprobe esp4 && lsmod | grep esp4
