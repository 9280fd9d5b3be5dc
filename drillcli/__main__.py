from drillcli.cli import main

main()
