#!/bin/sh
dmesg | awk '{print}' > /work/main/.vmtmp/dmesg.txt
