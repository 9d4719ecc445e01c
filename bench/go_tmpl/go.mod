module gotmplbench

go 1.19
