from drillcli.launch import main

main()
