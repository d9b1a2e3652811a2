// SIPDialog: placeholder until the target lands.
enum _SIPDialogPlaceholder {}
