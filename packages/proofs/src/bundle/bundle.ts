// The bundle format's reading side lives in the offline verifier (`@fieldproof/receipt`); the writer here
// shares its constants.
export { BUNDLE_FORMAT, type BundleSelection } from '@fieldproof/receipt';
